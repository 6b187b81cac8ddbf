// `gputel query <summary|gpus|gpu ID|flags|report KIND>`: asks one or several collectors' HTTP
// API and prints tables for people, CSV (--format csv) or the API's JSON (--json) for scripts.
// When a list is cut (the API's limit), stderr says so: stdout stays only the data.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gpuCsv, summaryCsv } from "../../collector/api/answer-csv.js";
import { newestCopy } from "../../collector/api/fanout.js";
import { LIMITS } from "../../collector/api/params.js";
import type { GpuView, Report, Summary } from "../../collector/contract/api-contract.js";
import { isNotHeld, type NOT_HELD } from "../../collector/fanout/fan-out.js";
import { mergeFlagPages } from "../../collector/merge/list-answers.js";
import { type ReportRow, reportColumns, reportCsv, reportRows } from "../../collector/reports/report-csv.js";
import type { SalesReport } from "../../collector/reports/sales-report.js";
import { extraOperands } from "../../shared/cli/operands.js";
import { csvOf } from "../../shared/csv.js";
import { gpuName } from "../../shared/gpu-id.js";
import { hasCredentials } from "../../shared/mask.js";
import { type ClientOptions, getAll, heldByNone, QueryError } from "./client.js";
import { flagColumns, flagCsvValue, GPU_COLUMNS, type ListColumn } from "./columns.js";
import { exitStatusOfHttp } from "./exit-status.js";
import { type FlagsAnswer, truncationNotice } from "./flags-notice.js";
import { healthCommand } from "./health.js";
import { gpuRef, markedFlagAnswers, mergedGpus, mergedReport, mergedSummary } from "./merged.js";
import {
  apiLabel,
  OptionError,
  parseSort,
  resolveGivenRange,
  resolveRange,
  type SortKey,
  sortBy,
} from "./options.js";
import { processCommand } from "./processes.js";
import { renderFlags, renderGpu, renderGpus, renderReport, renderSummary } from "./render.js";
import type { Style } from "./table.js";

const USAGE = `Usage: gputel query <command> [options]

Commands:
  summary            fleet summary: GPUs by state, open flags, utilization now and over --since
  gpus               GPUs with latest values and open flags (--host, --site, --label, --kind, --state)
  gpu ID             one GPU, by host:index or UUID
  flags              open flags, most severe first (--state all: history) (--kind, --host, --site,
                     --label, --model, --search, --gpu, --problems, --since, --until)
  report KIND        utilization | energy | thermal | capacity | downtime (--since, --until, --by)
                     | sales (sold rate, used rate, GPUs for sale now; --by model | site | host)
                     | health (Xids by code, model, host; hardware downtime; RMA candidates)
  events             kernel-log events, newest first (--gpu, --host, --code, --action, --since, --until,
                     --limit, --before)
  health GPU         one GPU's health timeline: events, flags, acknowledgements, downtime (--since, --until)
  processes [GPU]    compute processes holding GPUs now: pid, name, user, pod/container/Slurm job,
                     memory (--gpu, --host, --user, --job, --pod, --container; --since or
                     --state all: sessions over the range)
  report processes   GPU-hours and idle-held hours by --by user | job | pod | container

Options:
  --url URL          collector API (default http://127.0.0.1:8080); repeat or comma-separate
                     to ask several collectors and merge (summary, gpus, gpu ID, flags, events,
                     health GPU, processes, every report KIND); each then answers for itself
                     only, not for its http.peers
  --token-file F     file holding the API token (else env GPUTEL_API_TOKEN)
  --format F         table (default) | csv | json;  --csv and --json say the same
  --sort F[:desc]    order rows by a CSV column (gpus: gpu, util_pct, temp_celsius, power_watts,
                     memory_used_mib, state, ...; flags: severity, since, for_ms, kind, gpu, ...;
                     report: group, busy_gpu_h, ...); util, temp, power, memory, for and a
                     report's JSON field (busyGpuHours) also work
  --since T          24h, 7d, today, yesterday, this-month, last-month, a date (2026-05-01),
                     RFC 3339 or epoch ms (default 24h); days and months in this machine's zone
  --until T          end of the range (default now, or the end of the day/month --since names)
  --by G             site | host | model | gpu | label:KEY
  --label K=V        as the agent's labels are written (K:V also works)
  --host H  --site S  --kind K  --state S  --limit N
  --model M          flags of that GPU model's GPUs (as the API and dashboard spell it)
  --search TEXT      flags whose host, host:index, UUID, label value or model holds TEXT
  --gpu ID           flags: one GPU's flags and its host's (host:index or UUID)
  --problems         flags: only warning and critical (leaves out idle)
  --before C         events: the page after cursor C (the \`next\` of a page, as "(more: …)" says)
  -h, --help

Exit status: 64 bad usage, 65 refused (bad parameter, unknown GPU), 66 unreadable --token-file,
69 collector unreachable or failing, 78 token missing or lacking the role.
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
  const takes = command === undefined ? undefined : OPERANDS.get(command);
  const extra = takes && extraOperands(positionals.slice(1), takes[0], `${command} takes ${takes[1]}`);
  if (extra) {
    io.stderr(`gputel query: ${extra}\n\n${USAGE}`);
    return 64;
  }
  const urls = (v.url ?? ["http://127.0.0.1:8080"]).flatMap((u) => u.split(",")).filter((u) => u !== "");
  if (urls.length === 0) {
    io.stderr(`gputel query: --url needs a collector URL (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
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
  const client: ClientOptions = { urls, ...(token ? { token } : {}), ownDataOnly: urls.length > 1 };
  // NO_COLOR (https://no-color.org) wins; colour only on a terminal unless FORCE_COLOR asks.
  const style: Style = {
    colour:
      !io.env.NO_COLOR && (io.isTTY || (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== "0")),
  };
  /**
   * The answer in the format asked. `cut`: the note a cut list's table shows under it (the table's
   * text holds it); beside CSV or JSON it goes to stderr, as the GPU and flag lists' notices do, so
   * a script learns of it and its stdout stays the CSV or the JSON alone.
   */
  const print = (json: unknown, text: () => string, csv: () => string, cut?: string) => {
    io.stdout(format === "json" ? `${JSON.stringify(json, null, 2)}\n` : format === "csv" ? csv() : text());
    if (cut && format !== "table") io.stderr(`gputel query: ${cut}`);
  };
  const notice = (shown: number, total: number | undefined, truncated: boolean) => {
    if (!truncated) return;
    const of = total !== undefined && total > shown ? ` of ${total}` : " (more exist)";
    io.stderr(`gputel query: showing ${shown}${of}; use --limit N for more\n`);
  };
  let format: string;
  try {
    format = v.format ?? (v.json ? "json" : v.csv ? "csv" : "table");
    if (!["table", "csv", "json"].includes(format))
      throw new UsageError(`--format ${JSON.stringify(format)}: table, csv or json`);
    const range = resolveRange(v.since, v.until, Date.now());
    const label = apiLabel(v.label);
    const sort = parseSort(v.sort);
    // The health and process commands keep their own default range (no --since), but read the
    // words and dates of --since and --until as every other command does.
    const given = resolveGivenRange(v.since, v.until, Date.now());
    const ranged = { ...v, since: given.from, until: given.to };
    switch (command) {
      case "summary": {
        const s =
          urls.length === 1
            ? ((await getAll<Summary>("/api/v1/summary", { ...range }, client))[0] as Summary)
            : await mergedSummary(range, client);
        print(
          s,
          () => renderSummary(s, style),
          () => summaryCsv(s),
        );
        return 0;
      }
      case "gpus": {
        const q = { host: v.host, site: v.site, label, flag: v.kind, state: v.state };
        type GpusAnswer = { gpus: GpuView[]; total?: number; truncated?: boolean };
        const answer: GpusAnswer =
          urls.length === 1
            ? ((await getAll<GpusAnswer>("/api/v1/gpus", { ...q, limit: v.limit }, client))[0] as GpusAnswer)
            : await mergedGpus(q, v.limit, client);
        const gpus = sort ? sorted(answer.gpus, GPU_COLUMNS, sort) : answer.gpus;
        print(
          { ...answer, gpus },
          () => renderGpus(gpus, style),
          () => csvOf(GPU_COLUMNS, gpus),
        );
        notice(gpus.length, answer.total, answer.truncated === true);
        return 0;
      }
      case "gpu": {
        if (!arg) throw new UsageError("gpu needs an ID (UUID or host:index)");
        const answers = await Promise.allSettled(
          urls.map((u) =>
            getAll<GpuView | typeof NOT_HELD>(
              `/api/v1/gpus/${encodeURIComponent(arg)}`,
              {},
              {
                ...client,
                urls: [u],
              },
            ),
          ),
        );
        // Asked for its own data (several URLs), a collector without the GPU says so (NOT_HELD).
        const found = answers.flatMap((a) =>
          a.status === "fulfilled" ? a.value.filter((g): g is GpuView => !isNotHeld(g)) : [],
        );
        // A host:index collectors resolve differently: the copy with the newest sample, as a
        // collector with http.peers answers it (newestCopy, the rule peerRef names GPUs by).
        const gpu = newestCopy(found);
        if (!gpu) {
          // One that did not answer may hold it: its failure, else the refusal one collector gives.
          const failed = answers.find((a) => a.status === "rejected");
          if (failed) throw failed.reason;
          throw heldByNone(arg, urls);
        }
        print(
          gpu,
          () => renderGpu(gpu, style),
          () => gpuCsv(gpu),
        );
        return 0;
      }
      case "flags": {
        const q = {
          state: v.state ?? "open",
          kind: v.kind,
          host: v.host,
          site: v.site,
          label,
          model: v.model,
          q: v.search,
          // Several collectors: a host:index asked of each by one UUID (gpuRef).
          gpu: v.gpu === undefined ? undefined : (await gpuRef(v.gpu, client)).ref,
          problems: v.problems ? "true" : undefined,
          from: v.since === undefined ? undefined : range.from,
          to: range.to,
          limit: v.limit,
        };
        // Ids are each collector's own: one that is not the first's shows whose it is (`peer`).
        const answers = markedFlagAnswers(await getAll<FlagsAnswer>("/api/v1/flags", q, client), urls);
        if (v.gpu !== undefined && answers.every(isNotHeld)) throw heldByNone(v.gpu, urls);
        const now = Math.max(...answers.map((a) => a.generatedMs));
        const columns = flagColumns(now);
        // Open problems as the API orders them (most severe, then longest open, first), cut at the
        // limit each collector was asked for, as one collector holding every flag cuts them.
        const page = mergeFlagPages(answers, q.state, answers[0]?.limit ?? LIMITS.defaultFlagRows, now);
        const flags = sort ? sorted(page.flags, columns, sort) : page.flags;
        const cut = truncationNotice(page, flags.length, q.state);
        if (cut) io.stderr(cut);
        print(
          urls.length === 1 ? { ...answers[0], flags } : { generatedMs: now, state: q.state, ...page, flags },
          () => renderFlags(flags, now, style, sort !== undefined),
          () =>
            csvOf(
              columns.map((c) => ({
                ...c,
                value: (f: (typeof flags)[number]) => flagCsvValue(c.name, f, c.value(f)),
              })),
              flags,
            ),
        );
        return 0;
      }
      case "events":
      case "health": {
        if (command === "health" && !arg) throw new UsageError("health needs a GPU (UUID or host:index)");
        await healthCommand(command, arg, ranged, client, style, print);
        return 0;
      }
      case "processes": {
        await processCommand("processes", arg, ranged, client, style, print, notice);
        return 0;
      }
      case "report": {
        if (arg === "processes") {
          await processCommand("report-processes", arg, ranged, client, style, print, notice);
          return 0;
        }
        if (arg === "health") {
          await healthCommand("report-health", arg, ranged, client, style, print);
          return 0;
        }
        if (!arg)
          throw new UsageError(
            "report needs a KIND: utilization, energy, thermal, capacity, downtime or sales",
          );
        const report: Report | SalesReport =
          urls.length === 1
            ? ((
                await getAll<Report | SalesReport>(
                  `/api/v1/reports/${encodeURIComponent(arg)}`,
                  { ...range, by: v.by },
                  client,
                )
              )[0] as Report | SalesReport)
            : await mergedReport(arg, range, v.by, client);
        const { groups: rows, total } = reportRows(report);
        const columns = reportColumns([...rows, total]);
        // By GPU the API keys groups by UUID; people read host:index (JSON stays the API's).
        const names =
          v.by === "gpu" && format !== "json" ? await gpuNames(client) : new Map<string, string>();
        const nameOf = (key: string) => names.get(key) ?? key;
        const order = (list: ReportRow[]) => (sort ? sorted(list, columns, sort) : list);
        const groups = order(rows.map((row) => ({ ...row, key: nameOf(row.key) })));
        // JSON stays the API's rows (never renamed), in the asked order (group keys are unique).
        const raw = new Map((report.groups as unknown as ReportRow[]).map((row) => [row.key, row]));
        print(
          { ...report, groups: groups.map((row) => raw.get(row.key)) },
          () => renderReport({ ...report, groups, total } as unknown as Report | SalesReport, style),
          () => reportCsv(report, { nameOf, order }),
        );
        return 0;
      }
      default:
        throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "a command is needed");
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof OptionError) {
      io.stderr(`gputel query: ${error.message}\n\n${USAGE}`);
      return 64;
    }
    if (error instanceof QueryError) {
      io.stderr(`gputel query: ${error.message}\n`);
      return exitStatusOfHttp(error.status);
    }
    throw error;
  }
}

class UsageError extends Error {}

/** How many operands each command takes after its name, and how its refusal says so. */
const OPERANDS = new Map<string, readonly [number, string]>([
  ["summary", [0, "no operand"]],
  ["gpus", [0, "no operand"]],
  ["flags", [0, "no operand"]],
  ["events", [0, "no operand"]],
  ["gpu", [1, "one GPU ID"]],
  ["health", [1, "one GPU"]],
  ["processes", [1, "at most one GPU"]],
  ["report", [1, "one KIND"]],
]);

/** Rows ordered by one of the columns (case-insensitive name, or the column's older alias). */
function sorted<T>(rows: readonly T[], columns: readonly ListColumn<T>[], key: SortKey): T[] {
  const byName = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const alias = columns.find((c) => c.alias?.toLowerCase() === key.field);
  const named = alias ? { ...key, field: alias.name.toLowerCase() } : key;
  return sortBy(rows, named, (row, field) => byName.get(field)?.value(row), [...byName.keys()]);
}

/** UUID → host:index of every GPU the collectors list now. */
async function gpuNames(client: ClientOptions): Promise<Map<string, string>> {
  const answers = await getAll<{ gpus: GpuView[] }>("/api/v1/gpus", { limit: "100000" }, client);
  return new Map(answers.flatMap((a) => a.gpus.map((g) => [g.uuid, gpuName(g.host, g.index)] as const)));
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string", multiple: true },
      "token-file": { type: "string" },
      json: { type: "boolean", default: false },
      csv: { type: "boolean", default: false },
      format: { type: "string" },
      sort: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      before: { type: "string" },
      by: { type: "string" },
      host: { type: "string" },
      site: { type: "string" },
      label: { type: "string" },
      kind: { type: "string" },
      state: { type: "string" },
      limit: { type: "string" },
      gpu: { type: "string" },
      model: { type: "string" },
      search: { type: "string" },
      problems: { type: "boolean", default: false },
      code: { type: "string" },
      action: { type: "string" },
      user: { type: "string" },
      job: { type: "string" },
      pod: { type: "string" },
      container: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
