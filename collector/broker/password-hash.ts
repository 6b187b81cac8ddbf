// Password hashes for the embedded broker's users_file: scrypt (node:crypto) with a random salt,
// written `scrypt$N$r$p$<salt base64>$<hash base64>`, compared in constant time.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export const HASH_PREFIX = "scrypt$";

export interface PasswordHash {
  /** CPU/memory cost (a power of two). */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelization. */
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** 2^15 × 8 × 128 B = 32 MiB and roughly 0.1 s of one core per hash. */
export const DEFAULT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a users_file may ask for: weaker is refused, stronger would let one login take GiBs. */
const N_RANGE = [2 ** 14, 2 ** 18] as const;
const R_RANGE = [1, 16] as const;
const P_RANGE = [1, 4] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The parsed hash, or a message saying what is wrong with it. */
export function parsePasswordHash(text: string): PasswordHash | string {
  if (!text.startsWith(HASH_PREFIX)) return "not a scrypt hash";
  const parts = text.split("$");
  if (parts.length !== 6) return "expected scrypt$N$r$p$salt$hash";
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isInteger(N) || N < N_RANGE[0] || N > N_RANGE[1] || (N & (N - 1)) !== 0)
    return `N must be a power of two from ${N_RANGE[0]} to ${N_RANGE[1]}`;
  if (!Number.isInteger(R) || R < R_RANGE[0] || R > R_RANGE[1])
    return `r must be ${R_RANGE[0]}..${R_RANGE[1]}`;
  if (!Number.isInteger(P) || P < P_RANGE[0] || P > P_RANGE[1])
    return `p must be ${P_RANGE[0]}..${P_RANGE[1]}`;
  if (!BASE64.test(salt) || !BASE64.test(hash)) return "salt and hash must be base64";
  const saltBytes = Buffer.from(salt, "base64");
  const hashBytes = Buffer.from(hash, "base64");
  if (saltBytes.length < 16) return "salt must be at least 16 bytes";
  if (hashBytes.length < 16 || hashBytes.length > 64) return "hash must be 16 to 64 bytes";
  return { N, r: R, p: P, salt: saltBytes, hash: hashBytes };
}

function derive(password: Buffer, h: Omit<PasswordHash, "hash">, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is below what N_RANGE allows.
    const maxmem = 256 * h.N * h.r * h.p;
    scrypt(password, h.salt, keyBytes, { N: h.N, r: h.r, p: h.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(Buffer.from(password, "utf8"), { ...params, salt }, KEY_BYTES);
  return `${HASH_PREFIX}${params.N}$${params.r}$${params.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** Constant-time in the password: the whole derived key is compared with timingSafeEqual. */
export async function verifyPassword(password: Buffer, expected: PasswordHash): Promise<boolean> {
  const key = await derive(password, expected, expected.hash.length);
  return timingSafeEqual(key, expected.hash);
}
