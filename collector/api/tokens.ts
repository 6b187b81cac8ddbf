// Role tokens: `gputel token add` makes one, the API looks presented tokens up. A token is 32
// random bytes (256 bits) in base64url behind a `gputel_` prefix; only its SHA-256 is stored.
// A plain hash is enough here, and scrypt would add nothing: scrypt slows the guessing of
// low-entropy secrets such as passwords, while nobody can search 2^256 random tokens however
// fast the hash is. A fast hash also lets the lookup be one indexed equality on the digest,
// with no per-token salt to try, so checking a token costs the same whatever the table holds.
import { createHash, randomBytes } from "node:crypto";
import { TENANT_PATTERN } from "../leases/model.js";
import type { TokenStore } from "../store/tokens.js";
import type { Principal, TokenLookup } from "./access.js";

export const TOKEN_PREFIX = "gputel_";

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function newToken(): { id: string; token: string; digest: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { id: `tok_${randomBytes(6).toString("hex")}`, token, digest: tokenDigest(token) };
}

/** "admin", "viewer" or "tenant:<name>" as a principal; undefined when it is none of them. */
export function parseRole(role: string, actor: string): Principal | undefined {
  if (role === "admin" || role === "viewer") return { role, actor };
  if (role.startsWith("tenant:") && TENANT_PATTERN.test(role.slice(7)))
    return { role: "tenant", tenant: role.slice(7), actor };
  return undefined;
}

/** Presented token → principal, from the stored tokens (revoked ones are not found). */
export function storedTokenLookup(store: TokenStore): TokenLookup {
  return (token) => {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const record = store.byDigest(tokenDigest(token));
    return record ? parseRole(record.role, `token:${record.id}`) : undefined;
  };
}
