// A stand-in for systemd's notify socket: a python3 receiver bound to a unix datagram socket (Node
// has none), printing each message it gets. Used by the sd-notify tests and the agent's readiness.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

// Receives datagrams, closes passed fds (systemd-notify's BARRIER=1 waits for that), prints each.
const RECEIVER = `
import socket, sys, os
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + addr[1:] if addr.startswith("@") else addr)
print("BOUND", flush=True)
while True:
    msg, fds, _, _ = socket.recv_fds(s, 4096, 16)
    for fd in fds: os.close(fd)
    print(repr(msg.decode()), flush=True)
`;

export interface NotifyReceiver {
  /** One line per message, as Python's repr of its text. */
  lines: string[];
  /** Resolves when a line contains `text`; rejects after `timeoutMs`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Binds `address` (a path, or `@name` for the abstract namespace) and resolves once bound. */
export async function notifyReceiver(address: string): Promise<NotifyReceiver> {
  const child: ChildProcessWithoutNullStreams = spawn("python3", ["-c", RECEIVER, address]);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (text: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${text}" in ${JSON.stringify(lines)}`)),
        timeoutMs,
      );
      const check = () => {
        if (lines.some((l) => l.includes(text))) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  const stop = () => child.kill();
  try {
    await waitFor("BOUND");
  } catch (error) {
    stop();
    throw error;
  }
  return { lines, waitFor, stop };
}
