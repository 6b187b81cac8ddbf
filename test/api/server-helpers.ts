// Starts the real API server over a fleet fixture on a loopback port and fetches from it.
import type { TokenLookup } from "../../collector/api/access.js";
import { createApiServer } from "../../collector/api/server.js";
import { silentLogger } from "../../shared/logger.js";
import { buildFleet, type FleetFixture } from "./fleet-fixture.js";

export interface LiveApi {
  fleet: FleetFixture;
  url: string;
  get(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown; text: string }>;
  close(): Promise<void>;
}

export async function startLiveApi(
  options: { token?: string; tokens?: TokenLookup; host?: string; firstHost?: number } = {},
): Promise<LiveApi> {
  const fleet = buildFleet(options.firstHost !== undefined ? { firstHost: options.firstHost } : {});
  const host = options.host ?? "127.0.0.1";
  const server = createApiServer({
    backend: fleet.backend,
    listen: { host, port: 0 },
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.tokens !== undefined ? { tokens: options.tokens } : {}),
    logger: silentLogger(),
  });
  const { port } = await server.start();
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    fleet,
    url,
    async get(path, headers = {}) {
      const response = await fetch(`${url}${path}`, { headers });
      const text = await response.text();
      let body: unknown = text;
      if ((response.headers.get("content-type") ?? "").includes("json")) body = JSON.parse(text);
      return { status: response.status, body, text };
    },
    async close() {
      await server.stop();
      fleet.close();
    },
  };
}
