// `gputel query <summary|gpus|gpu ID|flags|report KIND>`: asks one or several collectors' HTTP
// API and prints tables for people or, with --json, the API's JSON for scripts.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { GpuView, Report, Summary } from "../../collector/contract/api-contract.js";
import { mergeFlagAnswers, mergeGpuLists, withDurations } from "../../collector/merge/merge-lists.js";
import { hasCredentials } from "../../shared/mask.js";
import { type ClientOptions, getAll, QueryError } from "./client.js";
import { type FlagsAnswer, truncationNotice } from "./flags-notice.js";
import { mergedReport, mergedSummary } from "./merged.js";
import { renderFlags, renderGpu, renderGpus, renderReport, renderSummary } from "./render.js";
import type { Style } from "./table.js";

const USAGE = `Usage: gputel query <command> [options]

Commands:
  summary            fleet summary: GPUs by state, open flags, utilization now and over --since
  gpus               GPUs with latest values and open flags (--host, --site, --label, --kind, --state)
  gpu ID             one GPU, by UUID or host:index
  flags              open flags (--state all: history) (--kind, --host, --site, --label, --since, --until)
  report KIND        utilization | energy | thermal | capacity (--since, --until, --by)

Options:
  --url URL          collector API (default http://127.0.0.1:8080); repeat or comma-separate
                     to ask several collectors and merge (summary, gpus, flags, utilization, energy)
  --token-file F     file holding the API token (else env GPUTEL_API_TOKEN)
  --json             print the API's JSON
  --since T          24h, 7d, RFC 3339 or epoch ms (default 24h)
  --until T          end of the range (default now)
  --by G             site | host | model | gpu | label:KEY
  --host H  --site S  --label K:V  --kind K  --state S  --limit N
  -h, --help
`;

export interface QueryIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

const defaultIo = (): QueryIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
});

export async function run(args: string[], io: QueryIo = defaultIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`gputel query: ${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  const [command, arg] = positionals;
  const urls = (v.url ?? ["http://127.0.0.1:8080"]).flatMap((u) => u.split(",")).filter((u) => u !== "");
  if (urls.some(hasCredentials)) {
    io.stderr(
      "gputel query: --url must not carry a password or token (ps would show it): give the token with --token-file or GPUTEL_API_TOKEN (GPUTEL_E_USAGE)\n",
    );
    return 64;
  }
  let token = io.env.GPUTEL_API_TOKEN;
  try {
    if (v["token-file"] !== undefined) token = readFileSync(v["token-file"], "utf8").trim();
  } catch (error) {
    io.stderr(`gputel query: cannot read --token-file: ${(error as Error).message}\n`);
    return 66;
  }
  const client: ClientOptions = { urls, ...(token ? { token } : {}) };
  // NO_COLOR (https://no-color.org) wins; colour only on a terminal unless FORCE_COLOR asks.
  const style: Style = {
    colour:
      !io.env.NO_COLOR && (io.isTTY || (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== "0")),
  };
  const range = { from: v.since ?? "24h", to: v.until };
  const print = (json: unknown, text: () => string) =>
    io.stdout(v.json ? `${JSON.stringify(json, null, 2)}\n` : text());
  try {
    switch (command) {
      case "summary": {
        const s =
          urls.length === 1
            ? ((await getAll<Summary>("/api/v1/summary", range, client))[0] as Summary)
            : await mergedSummary(range, client);
        print(s, () => renderSummary(s, style));
        return 0;
      }
      case "gpus": {
        const q = {
          host: v.host,
          site: v.site,
          label: v.label,
          flag: v.kind,
          state: v.state,
          limit: v.limit,
        };
        const answers = await getAll<{ gpus: GpuView[] }>("/api/v1/gpus", q, client);
        const gpus = mergeGpuLists(answers.map((a) => a.gpus));
        print(urls.length === 1 ? answers[0] : { total: gpus.length, gpus }, () => renderGpus(gpus, style));
        return 0;
      }
      case "gpu": {
        if (!arg) throw new UsageError("gpu needs an ID (UUID or host:index)");
        const answers = await Promise.allSettled(
          urls.map((u) =>
            getAll<GpuView>(`/api/v1/gpus/${encodeURIComponent(arg)}`, {}, { ...client, urls: [u] }),
          ),
        );
        const found = answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
        const gpu = mergeGpuLists([found])[0];
        if (!gpu) throw (answers[0] as PromiseRejectedResult).reason;
        print(gpu, () => renderGpu(gpu, style));
        return 0;
      }
      case "flags": {
        const q = {
          state: v.state ?? "open",
          kind: v.kind,
          host: v.host,
          site: v.site,
          label: v.label,
          from: v.since,
          to: v.until,
          limit: v.limit,
        };
        const answers = await getAll<FlagsAnswer>("/api/v1/flags", q, client);
        const now = Math.max(...answers.map((a) => a.generatedMs));
        // Open problems as the API orders them: most severe, then longest open, first.
        const flags = withDurations(
          mergeFlagAnswers(
            answers.map((a) => a.flags),
            q.state,
          ),
          now,
        );
        const notice = truncationNotice(answers, flags.length, q.state);
        if (notice) io.stderr(notice);
        print(urls.length === 1 ? answers[0] : { generatedMs: now, flags }, () =>
          renderFlags(flags, now, style),
        );
        return 0;
      }
      case "report": {
        if (!arg) throw new UsageError("report needs a KIND: utilization, energy, thermal or capacity");
        const report =
          urls.length === 1
            ? ((
                await getAll<Report>(
                  `/api/v1/reports/${encodeURIComponent(arg)}`,
                  { ...range, by: v.by },
                  client,
                )
              )[0] as Report)
            : await mergedReport(arg, range, v.by, client);
        print(report, () => renderReport(report, style));
        return 0;
      }
      default:
        throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "a command is needed");
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`gputel query: ${error.message}\n\n${USAGE}`);
      return 64;
    }
    if (error instanceof QueryError) {
      io.stderr(`gputel query: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

class UsageError extends Error {}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string", multiple: true },
      "token-file": { type: "string" },
      json: { type: "boolean", default: false },
      since: { type: "string" },
      until: { type: "string" },
      by: { type: "string" },
      host: { type: "string" },
      site: { type: "string" },
      label: { type: "string" },
      kind: { type: "string" },
      state: { type: "string" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
