// A peer answer is read up to a size: a peer (or another program on its port) streaming without
// end is named missing instead of filling the collector's memory.
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { fanOut } from "../../../collector/fanout/fan-out.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** A peer that answers 200 with a JSON array that never ends. */
async function endlessPeer(): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write("[");
    const more = () => {
      while (res.write(`"${"x".repeat(1000)}",`)) {}
      res.once("drain", more);
    };
    more();
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

describe("fanOut", () => {
  it("names a peer whose answer runs past the size limit missing, and reads no further", async () => {
    const peer = await endlessPeer();
    const [answer] = await fanOut([peer], "/api/v1/gpus", {}, undefined, { maxBytes: 100_000 });
    expect(answer).toEqual({ peer, ok: false, error: "answer over 100000 bytes" });
  });
});
