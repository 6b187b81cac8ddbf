// `gputel export`: streams GET /api/v1/export of one collector to stdout or a file (docs/export.md).
// Token and URL rules as `gputel query`: the token from --token-file or GPUTEL_API_TOKEN, never in
// the URL. With --output the file appears only once the whole answer arrived (written to
// FILE.partial, then renamed): a cut connection leaves no file that looks complete. Exit statuses
// as every API-talking command's (query/exit-status.ts), with 73 for an --output it cannot write.
import { createWriteStream, readFileSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { parseArgs } from "node:util";
import { EXPORT_FORMATS } from "../../collector/export/columns.js";
import { hasCredentials } from "../../shared/mask.js";
import { apiErrorOf, describeFetchError, excerpt } from "../query/client.js";
import { exitStatusOfHttp, UNREACHABLE } from "../query/exit-status.js";
import { resolveGivenRange } from "../query/options.js";

const USAGE = `Usage: gputel export --since T --format F [options]

Streams stored samples out of a collector (docs/export.md).

Options:
  --since T          start: RFC 3339, epoch ms, a duration before now (24h), today,
                     yesterday, this-month, last-month or a date (2026-05-01)     (required)
  --until T          end (default now, or the end of the day/month --since names);
                     at most 400 days after --since
  --format F         openmetrics | vm-jsonl | csv                                (required)
  --tier T           raw (default) or a rollup tier the collector keeps (1m, 1h)
  --gpu ID           a GPU by UUID or host:index; repeat or comma-separate (default: every GPU)
  --output FILE      write to FILE (default stdout)
  --url URL          collector API (default http://127.0.0.1:8080)
  --token-file F     file holding the API token (else env GPUTEL_API_TOKEN)
  -h, --help

Exit status: 0 done, 64 bad usage, 65 refused (a bad parameter, an unknown GPU or tier), 66
unreadable --token-file, 69 collector unreachable, failing or cut off (no --output file is left),
73 --output cannot be written, 78 token missing or lacking the role.
`;

export interface ExportIo {
  stdout: Writable;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): ExportIo => ({
  stdout: process.stdout,
  stderr: (t) => process.stderr.write(t),
  env: process.env,
});

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    options: {
      since: { type: "string" },
      until: { type: "string" },
      format: { type: "string" },
      tier: { type: "string" },
      gpu: { type: "string", multiple: true },
      output: { type: "string", short: "o" },
      url: { type: "string" },
      "token-file": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

export async function run(args: string[], io: ExportIo = defaultIo()): Promise<number> {
  let v: ReturnType<typeof parse>["values"];
  let range: { from: string | undefined; to: string | undefined };
  try {
    v = parse(args).values;
    if (v.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (v.since === undefined) throw new Error("--since is required");
    if (v.format === undefined) throw new Error("--format is required (openmetrics, vm-jsonl or csv)");
    // Checked here: the collector refuses it too, but as a refusal (65), after a round trip.
    if (!EXPORT_FORMATS.some((f) => f === v.format))
      throw new Error(`--format must be one of ${EXPORT_FORMATS.join(", ")}`);
    range = resolveGivenRange(v.since, v.until, Date.now());
  } catch (error) {
    io.stderr(`gputel export: ${(error as Error).message} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
  const base = (v.url ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  if (hasCredentials(base) || base.includes(",")) {
    io.stderr(
      "gputel export: --url names one collector and carries no password or token (ps would show it): give the token with --token-file or GPUTEL_API_TOKEN (GPUTEL_E_USAGE)\n",
    );
    return 64;
  }
  let token = io.env.GPUTEL_API_TOKEN;
  try {
    if (v["token-file"] !== undefined) token = readFileSync(v["token-file"], "utf8").trim();
  } catch (error) {
    io.stderr(`gputel export: cannot read --token-file: ${(error as Error).message}\n`);
    return 66;
  }
  const params = new URLSearchParams({ from: range.from ?? v.since, format: v.format });
  if (range.to !== undefined) params.set("to", range.to);
  if (v.tier !== undefined) params.set("tier", v.tier);
  for (const gpu of v.gpu ?? []) for (const g of gpu.split(",")) if (g !== "") params.append("gpu", g);
  const partial = v.output !== undefined ? `${v.output}.partial` : undefined;
  // Made afresh and exclusively below (O_EXCL follows no link): in a shared directory a file or
  // link planted at OUTPUT.partial would otherwise be written through, or keep its mode. Removed
  // before asking, so that the answer's stream has a reader from its first byte.
  try {
    if (partial !== undefined) await rm(partial, { force: true });
  } catch (error) {
    io.stderr(`gputel export: cannot write --output ${v.output}: ${(error as Error).message}\n`);
    return 73;
  }
  let response: Response;
  try {
    response = await fetch(`${base}/api/v1/export?${params}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch (error) {
    io.stderr(`gputel export: ${describeFetchError(base, error)}\n`);
    return exitStatusOfHttp(UNREACHABLE);
  }
  if (!response.ok || !response.body) {
    io.stderr(`gputel export: ${base}: ${await failure(response)}\n`);
    // A success without a body is not the API's answer: a failing collector, as a 5xx.
    return exitStatusOfHttp(response.ok ? 502 : response.status);
  }
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  try {
    if (partial !== undefined && v.output !== undefined) {
      await pipeline(body, createWriteStream(partial, { flags: "wx", mode: 0o600 }));
      await rename(partial, v.output);
    } else {
      await pipeline(body, io.stdout, { end: false });
    }
  } catch (error) {
    if (partial !== undefined) await rm(partial, { force: true });
    const local = (error as NodeJS.ErrnoException).syscall;
    if (local === "open" || local === "write" || local === "rename") {
      // EX_CANTCREAT: the collector answered; this machine could not write the file.
      io.stderr(`gputel export: cannot write --output ${v.output}: ${(error as Error).message}\n`);
      body.destroy();
      return 73;
    }
    io.stderr(
      `gputel export: the export from ${base} was cut off (${(error as Error).message}): ${partial ? "no file was written" : "what stdout got is incomplete"}\n`,
    );
    // The connection was lost before the end: the collector stopped or failed mid-answer.
    return exitStatusOfHttp(UNREACHABLE);
  }
  return 0;
}

async function failure(response: Response): Promise<string> {
  if (response.status === 401)
    return "unauthorized: give the API token with --token-file or GPUTEL_API_TOKEN";
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `HTTP ${response.status}: ${excerpt(text)}`;
  }
  const b = apiErrorOf(body);
  const which = b.parameter ? ` (parameter ${b.parameter})` : "";
  return `${b.message ?? b.error ?? `HTTP ${response.status}`}${which}`;
}
