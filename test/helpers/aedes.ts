// A plain in-process aedes 2 broker on a free loopback port (no ingest), for agent tests.
import { createServer, type Server } from "node:net";
import { Aedes } from "aedes";
import { freePort } from "./net.js";

export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startAedes(): Promise<TestBroker> {
  const aedes = new Aedes();
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
