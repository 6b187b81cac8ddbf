// A plain in-process aedes 2 broker on a free loopback port (no ingest), for agent tests; `options`
// (an authorizePublish hook) lets a test make it refuse or withhold acknowledgements.
import { createServer, type Server } from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import { freePort } from "./net.js";

export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startAedes(options: AedesOptions = {}): Promise<TestBroker> {
  const aedes = new Aedes(options);
  await aedes.listen();
  const server: Server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
