// `privacy.users`: what of a process's user leaves the host. Pure.
//   keep: uid and name as read;
//   hash: one opaque token instead of both: HMAC-SHA-256 keyed with the configured salt over the
//         name (or `uid:N` when the name is unknown), first 16 hex digits. The same user gets the
//         same token on every host sharing the salt, so reports still group by user, but the
//         name cannot be read back without the salt (a bare unsalted hash of a user name could be
//         reversed by hashing a list of likely names);
//   drop: neither.
import { createHmac } from "node:crypto";

export const USER_PRIVACY_MODES = ["keep", "hash", "drop"] as const;
export type UserPrivacy = (typeof USER_PRIVACY_MODES)[number];

export interface ProcessUser {
  uid?: number;
  /** Name from the passwd file; absent when the uid has none. */
  name?: string;
  /** `hash` mode's token. */
  token?: string;
}

export function applyUserPrivacy(user: ProcessUser, mode: UserPrivacy, salt: string): ProcessUser {
  switch (mode) {
    case "keep":
      return { ...user };
    case "drop":
      return {};
    case "hash": {
      if (salt === "") throw new Error("privacy.users is hash but privacy.salt is empty");
      const subject = user.name ?? (user.uid === undefined ? undefined : `uid:${user.uid}`);
      if (subject === undefined) return {};
      return { token: createHmac("sha256", salt).update(subject).digest("hex").slice(0, 16) };
    }
  }
}
