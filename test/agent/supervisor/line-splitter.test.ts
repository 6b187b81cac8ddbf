// The stream reader's line cutting (agent/sources/supervisor/line-splitter.ts) gives the lines
// node:readline gives (crlfDelay Infinity, as the agent used it), however the bytes are chunked.
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../agent/sources/supervisor/line-splitter.js";

async function readlineLines(chunks: Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Number.POSITIVE_INFINITY });
  rl.on("line", (line) => lines.push(line));
  await once(rl, "close");
  return lines;
}

function splitterLines(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

/** Every way of cutting `bytes` at one or two places, and byte by byte. */
function chunkings(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i += 1) {
    out.push([bytes.subarray(0, i), bytes.subarray(i)]);
    for (let j = i + 1; j < bytes.length; j += 3) {
      out.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
    }
  }
  return out;
}

// nvidia-smi's CSV rows (noheader, nounits), its error lines, and what other tools could print.
const TEXTS = [
  "0, GPU-5d0a, 00000000:04:00.0, 41, 69.85, [N/A]\n1, GPU-77aa, 00000000:05:00.0, 40, 70.01, 0\n",
  "Unable to determine the device handle for GPU0000:04:00.0: GPU is lost.\nno newline at the end",
  "crlf\r\nlines\r\n\r\nand a lone\rcarriage return\r",
  "\n\nblank lines first\n",
  "utf-8 split anywhere: °C, ✓, 𝄞\n",
  "",
];

describe("LineSplitter", () => {
  it("gives the lines readline gives, whatever the chunking", async () => {
    for (const text of TEXTS) {
      const bytes = Buffer.from(text, "utf8");
      const expected = await readlineLines([bytes]);
      for (const chunks of chunkings(bytes))
        expect(splitterLines(chunks), JSON.stringify(text)).toEqual(expected);
    }
  });
});
