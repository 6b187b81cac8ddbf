// Raw HTTP for the security tests: the request line carries the path exactly as written
// (fetch and URL would normalise dot segments and percent-encodings before sending).
import { Agent, request } from "node:http";

export interface RawAnswer {
  status: number;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export function rawGet(
  base: { host: string; port: number },
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.host, port: base.port, path, method, headers, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export function closeRawAgent(): void {
  agent.destroy();
}
