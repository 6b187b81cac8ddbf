// Masking of secrets wherever configuration or URLs are printed or logged: the one helper for
// check-config, log lines and systemd status. A URL keeps its user name and loses its password;
// a header map keeps its names and loses the values that carry credentials.

export const MASK = "********";

/** `mqtt://user:pass@host` → `mqtt://user:********@host`; text that is no URL is returned as is. */
export function maskUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.password === "") return text;
  url.password = MASK;
  return url.href;
}

/** Whether a URL carries a password (`user:pass@`) or a user name only (`user@`). */
export function urlCredentials(text: string): "password" | "username" | undefined {
  try {
    const url = new URL(text);
    if (url.password !== "") return "password";
    return url.username !== "" ? "username" : undefined;
  } catch {
    return undefined;
  }
}

/** Header names whose values are credentials (Authorization, cookies, API keys, tokens). */
const SECRET_HEADER = /authorization|cookie|token|secret|password|api[-_]?key|auth/i;

export function maskHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, SECRET_HEADER.test(name) ? MASK : value]),
  );
}
