// Masking of secrets wherever configuration or URLs are printed or logged: the one helper for
// check-config, configuration problems, log lines (shared/logger.ts), the API's peer lists and
// systemd status. In any text, a URL keeps its user name and loses its password, and a query
// parameter named like a credential (token, key, secret, password, sig, auth) loses its value;
// a header map keeps its names and loses the values that carry credentials.

export const MASK = "********";

/**
 * scheme://user:PASSWORD@ — the password runs to the authority's LAST '@', as URL parsers read it
 * (`mqtt://agent:p@ss@host` has the password `p@ss`), so no tail of it is left showing.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*):[^\s/?#"'<>]*@/gi;
/** ?token=VALUE, &api_key=VALUE, … */
const QUERY_SECRET = /([?&][^=&\s#"'<>]*(?:token|secret|passw|key|sig|auth)[^=&\s#"'<>]*=)[^&\s#"'<>]+/gi;

/** Masks every URL password and credential query value in `text` (a URL, a message, a line). */
export function maskUrl(text: string): string {
  if (!text.includes("://") && !text.includes("=")) return text;
  return text.replace(URL_PASSWORD, `$1:${MASK}@`).replace(QUERY_SECRET, `$1${MASK}`);
}

/** Whether `text` holds a credential maskUrl would hide (a URL's password, a token parameter). */
export function hasCredentials(text: string): boolean {
  return maskUrl(text) !== text;
}

/** Header names whose values are credentials (Authorization, cookies, API keys, tokens). */
const SECRET_HEADER = /authorization|cookie|token|secret|passw|api[-_]?key|auth/i;

export function maskHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? MASK : value]),
  );
}

/** A copy of a log object or configuration with maskUrl applied to every string in it. */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskUrl(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (value instanceof Error) {
    return { type: value.name, message: maskUrl(value.message), stack: maskUrl(value.stack ?? "") };
  }
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, depth + 1)]));
}
