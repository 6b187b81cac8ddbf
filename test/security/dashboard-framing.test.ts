// The dashboard's pages are never framed by another site's page (clickjacking): the CSP says
// frame-ancestors 'none' and, for browsers without it, X-Frame-Options says DENY.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveApi, startLiveApi } from "../api/server-helpers.js";

let api: LiveApi;
beforeAll(async () => {
  api = await startLiveApi();
});
afterAll(async () => {
  await api.close();
});

describe("dashboard framing", () => {
  it("forbids framing the dashboard's pages by any page", async () => {
    const response = await fetch(`${api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp.split(";").map((d) => d.trim())).toContain("frame-ancestors 'none'");
  });
});
