// Property (fast-check): over generated spellings of every route's path (each character literal,
// percent-encoded in either hex case, or double-encoded; letters case-flipped; dot segments and
// extra slashes added), the real collector answers 401 to every one without the token, and with
// the token never 401. The routes come from the app itself, so a new route is covered or this fails.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { routeAccess } from "../../collector/api/access.js";
import { buildApp } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";
import { PRIVATE_PATHS, startTestCollector, type TestCollector } from "./collector-helpers.js";
import { closeRawAgent, rawGet } from "./raw-http.js";

const TOKEN = "property-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PARAMS: Record<string, string> = { ":id": "GPU-0001", ":kind": "energy" };

/** Each private route's URL with its parameters filled in, from the app's own route table. */
async function privateRoutePaths(): Promise<string[]> {
  const app = buildApp({} as never, TOKEN, silentLogger());
  await app.ready();
  const urls = routeAccess(app)
    .filter((r) => !r.public)
    .map((r) => r.url.replace(/:[a-z]+/g, (p) => PARAMS[p] ?? p));
  await app.close();
  return [...new Set(urls)].sort();
}

type Piece = { text: string; once: boolean };

/** One character spelled: literal, %xx, %XX, %25xx (double), or case-flipped. */
const charSpelling = (c: string): fc.Arbitrary<Piece> => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, "0");
  const options: fc.Arbitrary<Piece>[] = [
    fc.constant({ text: c, once: true }),
    fc.constant({ text: `%${hex}`, once: true }),
    fc.constant({ text: `%${hex.toUpperCase()}`, once: true }),
    fc.constant({ text: `%25${hex}`, once: false }),
  ];
  if (c.toUpperCase() !== c.toLowerCase())
    options.push(
      fc.constant({ text: c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(), once: false }),
    );
  return c === "/" ? fc.constant({ text: c, once: true }) : fc.oneof(...options);
};

/** A spelling of `path`, and whether the router decodes it back to `path` exactly. */
const spelling = (path: string): fc.Arbitrary<{ path: string; same: boolean }> =>
  fc
    .tuple(
      fc.tuple(...[...path].map(charSpelling)),
      fc.constantFrom("", "/.", "/x/..", "/%2e", "/x/%2E%2E", "/"),
      fc.constantFrom("", "/", "//", "/.", "%2F"),
    )
    .map(([pieces, prefix, suffix]) => ({
      path: `${prefix}${pieces.map((p) => p.text).join("")}${suffix}`,
      same: prefix === "" && suffix === "" && pieces.every((p) => p.once),
    }));

let collector: TestCollector;
const canonical = new Map<string, number>();
beforeAll(async () => {
  collector = await startTestCollector({ token: TOKEN });
  for (const path of PRIVATE_PATHS) canonical.set(path, (await rawGet(collector.http, path, AUTH)).status);
});
afterAll(async () => {
  await collector?.close();
  closeRawAgent();
});

test("the tested paths are every private route of the app (a new route must be added here)", async () => {
  expect(await privateRoutePaths()).toEqual([...PRIVATE_PATHS].sort());
});

describe.each(PRIVATE_PATHS)("%s", (path) => {
  test("every spelling: 401 without the token; with it never 401, and the route's own answer when it decodes to the route", async () => {
    await fc.assert(
      fc.asyncProperty(spelling(path), fc.constantFrom("GET", "HEAD"), async (s, method) => {
        const without = await rawGet(collector.http, s.path, {}, method);
        expect({ path: s.path, status: without.status }).toEqual({ path: s.path, status: 401 });
        const withToken = await rawGet(collector.http, s.path, AUTH, method);
        expect(withToken.status).not.toBe(401);
        if (s.same && method === "GET") expect(withToken.status).toBe(canonical.get(path));
      }),
      { numRuns: 60 },
    );
  });
});
