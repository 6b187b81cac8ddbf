// Cross-site request forgery without a token: on a loopback bind with no http.token, every local
// request is the admin, so a page on another origin in the operator's browser could change things
// with a "simple" POST (no preflight; its Host is the loopback name, so the Host check passes).
// Browsers name the sending page in the Origin header of such requests: a state-changing request
// whose Origin is not the server its Host header names is refused. Requests without Origin (curl,
// the CLI, peers) and reads are left alone: a browser does not let another origin read the
// answer (no CORS headers are sent).

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request changes state and comes from a page of another origin than `host`. */
export function isCrossOriginChange(
  method: string,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (SAFE_METHODS.has(method.toUpperCase()) || origin === undefined) return false;
  const page = parsed(origin); // "null" (a sandboxed frame, a file: page) does not parse
  if (!page || (page.protocol !== "http:" && page.protocol !== "https:")) return true;
  // Parsed with the page's scheme, so `Host: localhost:80` and `http://localhost` are one place.
  const server = parsed(`${page.protocol}//${host ?? ""}`);
  return server === undefined || server.host !== page.host;
}

function parsed(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
