// The embedded broker's accounts (broker.users_file): one `name:hash[:role]` per line, '#' comments.
// hash is what `gputel collector hash-password` prints (scrypt$N$r$p$salt$hash); a plaintext
// password is refused, naming the user, so no file of clear passwords keeps working unnoticed.
// role is `agent` (the default: publishes its own host's topics, subscribes to nothing) or
// `reader` (subscribes to any topic, publishes nothing).
import { readFileSync } from "node:fs";
import type { ConfigProblem } from "../../shared/config/problems.js";
import { errorMessage, GputelError } from "../../shared/errors.js";
import { HASH_PREFIX, type PasswordHash, parsePasswordHash } from "./password-hash.js";

export const USER_ROLES = ["agent", "reader"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserAccount {
  name: string;
  hash: PasswordHash;
  role: UserRole;
}

export type Users = ReadonlyMap<string, UserAccount>;

/** The accounts and every problem found (each naming the line and, where known, the user). */
export function parseUsers(
  text: string,
  path: string,
): { users: Map<string, UserAccount>; problems: string[] } {
  const users = new Map<string, UserAccount>();
  const problems: string[] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = `${path}:${n + 1}`;
    const fields = line.split(":");
    const [name = "", secret = "", role = "agent"] = fields;
    if (name === "" || fields.length < 2 || fields.length > 3) {
      problems.push(`${at}: expected user:hash or user:hash:role`);
      continue;
    }
    if (!secret.startsWith(HASH_PREFIX)) {
      problems.push(
        `${at}: user '${name}' has a plaintext password; replace it with the hash that \`gputel collector hash-password\` prints (it reads the password on stdin)`,
      );
      continue;
    }
    const hash = parsePasswordHash(secret);
    if (typeof hash === "string") {
      problems.push(`${at}: user '${name}': ${hash}`);
      continue;
    }
    if (!(USER_ROLES as readonly string[]).includes(role)) {
      problems.push(`${at}: user '${name}': role '${role}' is not one of ${USER_ROLES.join(", ")}`);
      continue;
    }
    if (users.has(name)) problems.push(`${at}: user '${name}' appears twice`);
    users.set(name, { name, hash, role: role as UserRole });
  }
  return { users, problems };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new GputelError(
      "GPUTEL_E_CONFIG",
      `broker.users_file: cannot read ${path}: ${errorMessage(error)}`,
    );
  }
}

/** Throws GPUTEL_E_CONFIG listing every problem: the collector does not start on a bad file. */
export function readUsersFile(path: string): Users {
  const { users, problems } = parseUsers(readText(path), path);
  if (problems.length > 0)
    throw new GputelError("GPUTEL_E_CONFIG", `broker.users_file: ${problems.join("; ")}`);
  return users;
}

/** The same checks for `check-config`, so it refuses exactly what start-up refuses. */
export function usersFileProblems(path: string | undefined): ConfigProblem[] {
  if (path === undefined) return [];
  let text: string;
  try {
    text = readText(path);
  } catch (error) {
    return [{ path: "broker.users_file", message: errorMessage(error).replace(/^broker\.users_file: /, "") }];
  }
  return parseUsers(text, path).problems.map((message) => ({ path: "broker.users_file", message }));
}
