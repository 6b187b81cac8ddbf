import { describe, expect, it } from "vitest";
import { applyUserPrivacy } from "../../../agent/holders/privacy.js";

describe("privacy.users", () => {
  const alice = { uid: 1001, name: "alice" };

  it("keep passes uid and name", () => {
    expect(applyUserPrivacy(alice, "keep", "")).toEqual(alice);
  });

  it("drop sends nothing", () => {
    expect(applyUserPrivacy(alice, "drop", "s")).toEqual({});
  });

  it("hash sends one keyed token: stable per salt, different across salts, never the name", () => {
    const a = applyUserPrivacy(alice, "hash", "salt-1");
    expect(a).toEqual({ token: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(applyUserPrivacy(alice, "hash", "salt-1")).toEqual(a);
    expect(applyUserPrivacy(alice, "hash", "salt-2")).not.toEqual(a);
    expect(JSON.stringify(a)).not.toContain("alice");
    expect(JSON.stringify(a)).not.toContain("1001");
    // HMAC-SHA-256("salt-1", "alice"), first 16 hex digits.
    expect(a.token).toBe(EXPECTED_ALICE_SALT_1);
  });

  it("hash of a user without a passwd name uses the uid", () => {
    const t = applyUserPrivacy({ uid: 4242 }, "hash", "s");
    expect(t.token).toMatch(/^[0-9a-f]{16}$/);
    expect(t).not.toEqual(applyUserPrivacy({ uid: 4243 }, "hash", "s"));
  });

  it("hash without a salt is refused, naming the key", () => {
    expect(() => applyUserPrivacy(alice, "hash", "")).toThrow(/privacy\.salt/);
  });
});

// `printf alice | openssl dgst -sha256 -hmac salt-1`, first 16 hex digits.
const EXPECTED_ALICE_SALT_1 = "6d3588ab401a41ee";
