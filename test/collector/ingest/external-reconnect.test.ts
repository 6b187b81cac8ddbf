// The external-broker client's reconnects back off while the broker stays away, as the agent's do,
// and start again from the first delay after a connect. A real Mosquitto behind a TCP front door
// the test takes down (every connection attempt is then recorded and dropped) and brings back.
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ExternalBroker } from "../../../collector/broker/external.js";
import { IngestPipeline } from "../../../collector/ingest/pipeline.js";
import { silentLogger } from "../../../shared/logger.js";
import { mosquittoAvailable, startMosquitto } from "../../helpers/mosquitto.js";
import { waitFor } from "../../helpers/net.js";
import { MemorySink } from "./memory-sink.js";

const available = mosquittoAvailable();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP relay to the broker on `port`; down() cuts its connections and refuses new ones, noting when each came. */
async function frontDoor(port: number) {
  const attempts: number[] = [];
  const open = new Set<Socket>();
  let up = true;
  const server: Server = createServer((socket) => {
    if (!up) {
      attempts.push(Date.now());
      socket.destroy();
      return;
    }
    const broker = connect(port, "127.0.0.1");
    for (const end of [socket, broker]) {
      open.add(end);
      end.on("error", () => undefined);
      end.on("close", () => {
        open.delete(end);
        socket.destroy();
        broker.destroy();
      });
    }
    socket.pipe(broker).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: frontPort } = server.address() as AddressInfo;
  cleanups.push(async () => {
    for (const end of open) end.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `mqtt://127.0.0.1:${frontPort}`,
    attempts,
    down() {
      up = false;
      for (const end of open) end.destroy();
    },
    up() {
      up = true;
    },
  };
}

const gaps = (times: readonly number[]) => times.slice(1).map((t, i) => t - (times[i] ?? t));

describe.skipIf(!available)("external broker reconnects (Mosquitto)", () => {
  it("backs off while the broker stays away (100, 200, 400, 800 ms …) and starts again from 100 ms after a connect", async () => {
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.stop());
    const door = await frontDoor(mosquitto.port);
    const pipeline = new IngestPipeline({ sink: new MemorySink(), logger: silentLogger() });
    pipeline.start();
    const external = new ExternalBroker({
      url: door.url,
      ingest: pipeline,
      logger: silentLogger(),
      clientId: "collector-backoff",
      reconnectMinMs: 100,
    });
    await external.start();
    cleanups.push(async () => {
      await external.stop();
      await pipeline.stop();
    });

    door.down();
    await waitFor(() => door.attempts.length >= 4, 10_000, "four reconnect attempts");
    // Timers never fire early: each wait is at least its delay (10% for timer rounding).
    const away = gaps(door.attempts.slice(0, 4));
    expect(away[0]).toBeGreaterThanOrEqual(180);
    expect(away[1]).toBeGreaterThanOrEqual(360);
    expect(away[2]).toBeGreaterThanOrEqual(720);

    door.up();
    await waitFor(() => external.connected, 10_000, "reconnected");
    const before = door.attempts.length;
    door.down();
    await waitFor(() => door.attempts.length >= before + 2, 10_000, "two attempts after the reconnect");
    // Reset: 200 ms again, where the backoff carried on would wait 3.2 s or more.
    const [again] = gaps(door.attempts.slice(before, before + 2));
    expect(again).toBeLessThan(1600);
  });
});
