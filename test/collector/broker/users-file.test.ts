// The users_file format: name:hash[:role], every problem named with its line and user.
import { describe, expect, it } from "vitest";
import { hashPassword, parsePasswordHash, verifyPassword } from "../../../collector/broker/password-hash.js";
import { parseUsers } from "../../../collector/broker/users-file.js";

const HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

describe("parseUsers", () => {
  it("reads accounts and roles, skipping blank lines and comments", () => {
    const { users, problems } = parseUsers(`# accounts\n\nnode-a:${HASH}\ntap:${HASH}:reader\n`, "u");
    expect(problems).toEqual([]);
    expect([...users.values()].map((u) => [u.name, u.role])).toEqual([
      ["node-a", "agent"],
      ["tap", "reader"],
    ]);
  });

  it("names every problem: plaintext, bad hash, unknown role, duplicate, malformed line", () => {
    const text = [
      "node-a:hunter2",
      "node-b:scrypt$1024$8$1$AAAA$BBBB",
      `node-c:${HASH}:admin`,
      `node-d:${HASH}`,
      `node-d:${HASH}`,
      "just-a-name",
    ].join("\n");
    expect(parseUsers(text, "users").problems).toEqual([
      expect.stringMatching(/^users:1: user 'node-a' has a plaintext password; .*hash-password/),
      "users:2: user 'node-b': N must be a power of two from 16384 to 262144",
      "users:3: user 'node-c': role 'admin' is not one of agent, reader",
      "users:5: user 'node-d' appears twice",
      "users:6: expected user:hash or user:hash:role",
    ]);
  });
});

describe("password hashes", () => {
  it("round-trips, and a different password or salt does not match", async () => {
    const text = await hashPassword("correct horse");
    const parsed = parsePasswordHash(text);
    if (typeof parsed === "string") throw new Error(parsed);
    expect(await verifyPassword(Buffer.from("correct horse"), parsed)).toBe(true);
    expect(await verifyPassword(Buffer.from("correct hors"), parsed)).toBe(false);
    expect(await hashPassword("correct horse")).not.toBe(text);
  });

  it("refuses parameters outside the bounds and hashes that are not base64", () => {
    expect(parsePasswordHash("scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==")).toMatch(/expected/);
    expect(parsePasswordHash("scrypt$524288$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==")).toMatch(
      /^N /,
    );
    expect(parsePasswordHash("scrypt$32768$64$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==")).toMatch(
      /^r /,
    );
    expect(parsePasswordHash("scrypt$32768$8$1$not*base64$AAAAAAAAAAAAAAAAAAAAAA==")).toMatch(/base64/);
  });
});
