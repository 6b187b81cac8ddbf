// Checks MQTT CONNECT credentials against the users_file's scrypt hashes.
// scrypt is slow on purpose (about 0.1 s and 32 MiB at the default cost), so: at most a few run at
// once (beyond that a CONNECT is answered "server unavailable" and the client retries), an unknown
// user costs the same as a known one, and a password that was verified once is remembered as a
// SHA-256 digest, so agents reconnecting after a network blip cost a hash, not an scrypt.
import { createHash, timingSafeEqual } from "node:crypto";
import { DEFAULT_PARAMS, type PasswordHash, verifyPassword } from "./password-hash.js";
import type { UserAccount, Users } from "./users-file.js";

export type AuthResult = { ok: true; account: UserAccount } | { ok: false; busy: boolean };

/** scrypt derivations in flight at once (each holds 128·N·r bytes). */
const MAX_CONCURRENT = 4;

/** Verified against when the user does not exist, so the answer takes as long. */
const DUMMY: PasswordHash = {
  ...DEFAULT_PARAMS,
  salt: Buffer.alloc(16, 1),
  hash: Buffer.alloc(32, 2),
};

export class Authenticator {
  private inFlight = 0;
  /** username → SHA-256(salt ‖ password) of a password scrypt accepted. */
  private readonly verified = new Map<string, Buffer>();

  constructor(private readonly users: Users) {}

  async check(username: string | undefined, password: Buffer | undefined): Promise<AuthResult> {
    const account = username === undefined ? undefined : this.users.get(username);
    const given = password ?? Buffer.alloc(0);
    if (account) {
      const remembered = this.verified.get(account.name);
      if (remembered && timingSafeEqual(remembered, digest(account.hash.salt, given)))
        return { ok: true, account };
    }
    if (this.inFlight >= MAX_CONCURRENT) return { ok: false, busy: true };
    this.inFlight += 1;
    try {
      const matches = await verifyPassword(given, account?.hash ?? DUMMY);
      if (!account || !matches) return { ok: false, busy: false };
      this.verified.set(account.name, digest(account.hash.salt, given));
      return { ok: true, account };
    } finally {
      this.inFlight -= 1;
    }
  }
}

function digest(salt: Buffer, password: Buffer): Buffer {
  return createHash("sha256").update(salt).update(password).digest();
}
