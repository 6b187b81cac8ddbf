// `gputel lease add|end|list|show|delete|import`: lease administration over the collector's HTTP
// API (/api/v1/leases), with the same --url and token handling as `gputel query`. Tables for
// people, --json for scripts. Exit statuses (sysexits): 64 bad usage (a missing required option
// is refused here, before any request), 65 the data was refused (bad field, conflict, unknown
// lease or GPU, bad import file), 66 an input file cannot be read, 69 the collector cannot be
// reached, 78 the token is missing or lacks the role.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { LeaseView } from "../../collector/leases/model.js";
import type { ImportResult } from "../../collector/leases/service.js";
import { extraOperands } from "../../shared/cli/operands.js";
import { hasCredentials } from "../../shared/mask.js";
import type { ClientOptions } from "../query/client.js";
import { resolveGivenRange } from "../query/options.js";
import type { Style } from "../query/table.js";
import { formatOf, LeaseDataError, labelKey, parseImport } from "./import-file.js";
import { type HistoryView, renderLease, renderLeases } from "./render.js";
import { requestJson } from "./request.js";
import { InputError, requireOptions, runApiCli, UsageError } from "./run-api-cli.js";

const USAGE = `Usage: gputel lease <command> [options]

Commands:
  add                  create a lease: --device UUID --tenant NAME --start TIME
                       [--end TIME] [--id ID] [--contract C] [--price 2.50 --currency EUR]
                       [--availability 99.5] [--label key=value]...
  end ID [--at TIME]   end a lease now (or at a later TIME)
  list                 leases (--tenant, --device, --at TIME, --since/--until T, --limit)
  show ID              one lease with its history
  delete ID            delete a lease that has not started
  import FILE          create or update leases from CSV or YAML, all or nothing
                       (--format csv|yaml when the name does not tell); ids are required,
                       so importing the same file again changes nothing

Options:
  --url URL          collector API (default http://127.0.0.1:8080)
  --token-file F     file holding an admin API token (else env GPUTEL_API_TOKEN)
  --json             print the API's JSON
  -h, --help

Times: RFC 3339 (2026-11-01T00:00:00Z) or epoch milliseconds; --since and --until also take
24h, today, yesterday, this-month, last-month or a date (2026-05-01), as gputel query does.
Exit status: 0 done, 64 bad usage (a missing option, an unknown command), 65 refused data,
66 unreadable file, 69 collector unreachable, 78 token missing or lacking the admin role.
`;

export interface LeaseIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

export const defaultIo = (): LeaseIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
});

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "token-file": { type: "string" },
      json: { type: "boolean", default: false },
      device: { type: "string" },
      tenant: { type: "string" },
      start: { type: "string" },
      end: { type: "string" },
      id: { type: "string" },
      contract: { type: "string" },
      price: { type: "string" },
      currency: { type: "string" },
      availability: { type: "string" },
      label: { type: "string", multiple: true },
      at: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string" },
      format: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

/** --url and the token (--token-file or GPUTEL_API_TOKEN), as `gputel lease` and `gputel report` take them. */
export function client(v: Pick<Values, "url" | "token-file">, io: Pick<LeaseIo, "env">): ClientOptions {
  const url = v.url ?? "http://127.0.0.1:8080";
  if (hasCredentials(url))
    throw new UsageError(
      "--url must not carry a password or token (ps would show it): use --token-file or GPUTEL_API_TOKEN",
    );
  let token = io.env.GPUTEL_API_TOKEN;
  if (v["token-file"] !== undefined) {
    try {
      token = readFileSync(v["token-file"], "utf8").trim();
    } catch (error) {
      throw new InputError(`cannot read --token-file: ${(error as Error).message}`);
    }
  }
  return { urls: [url], ...(token ? { token } : {}) };
}

function labels(list: readonly string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const pair of list) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--label ${JSON.stringify(pair)} is not key=value`);
    out[labelKey(pair.slice(0, eq), "")] = pair.slice(eq + 1);
  }
  return out;
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}

/** What each command takes after its name. */
const OPERANDS = new Map([
  ["add", "no operand"],
  ["list", "no operand"],
  ["end", "one lease ID"],
  ["show", "one lease ID"],
  ["delete", "one lease ID"],
  ["import", "one FILE"],
]);

async function command(v: Values, positionals: string[], io: LeaseIo): Promise<void> {
  const [cmd, arg] = positionals;
  const style: Style = { colour: !io.env.NO_COLOR && io.isTTY };
  const out = (json: unknown, text: () => string) =>
    io.stdout(v.json ? `${JSON.stringify(json, null, 2)}\n` : text());
  const needId = () => {
    if (!arg) throw new UsageError(`${cmd} needs a lease ID`);
    return encodeURIComponent(arg);
  };
  const takes = OPERANDS.get(cmd ?? "");
  const extra =
    takes && extraOperands(positionals.slice(1), takes === "no operand" ? 0 : 1, `${cmd} takes ${takes}`);
  if (extra) throw new UsageError(extra);
  switch (cmd) {
    case "add": {
      requireOptions(v, ["device", "tenant", "start"], "add");
      // The API prices in one currency: a price alone, or a currency alone, is half an option.
      if (v.price !== undefined) requireOptions(v, ["currency"], "--price");
      if (v.currency !== undefined) requireOptions(v, ["price"], "--currency");
      const body = defined({
        id: v.id,
        device: v.device,
        tenant: v.tenant,
        start: v.start,
        end: v.end,
        contract: v.contract,
        pricePerGpuHour: v.price,
        currency: v.currency,
        committedAvailabilityPct: v.availability,
        labels: labels(v.label),
      });
      const lease = await requestJson<LeaseView>("POST", "/api/v1/leases", { ...client(v, io), body });
      return out(lease, () => `Created lease ${lease.id}.\n${renderLease(lease, style)}`);
    }
    case "end": {
      const lease = await requestJson<LeaseView>("POST", `/api/v1/leases/${needId()}/end`, {
        ...client(v, io),
        body: defined({ at: v.at }),
      });
      return out(lease, () => `Lease ${lease.id} ends at ${lease.end}.\n`);
    }
    case "list": {
      const range = resolveGivenRange(v.since, v.until, Date.now());
      const query = {
        tenant: v.tenant,
        device: v.device,
        at: v.at,
        from: range.from,
        to: range.to,
        limit: v.limit,
      };
      const answer = await requestJson<{ leases: LeaseView[]; truncated: boolean }>("GET", "/api/v1/leases", {
        ...client(v, io),
        query,
      });
      const cut = answer.truncated ? "(truncated: use --limit)\n" : "";
      out(answer, () => renderLeases(answer.leases, style) + cut);
      // Beside JSON the note goes to stderr (stdout stays the JSON), as gputel query's cut lists.
      if (cut && v.json) io.stderr(`gputel lease: ${cut}`);
      return;
    }
    case "show": {
      const lease = await requestJson<LeaseView & { history: HistoryView[] }>(
        "GET",
        `/api/v1/leases/${needId()}`,
        client(v, io),
      );
      return out(lease, () => renderLease(lease, style));
    }
    case "delete": {
      const answer = await requestJson<{ deleted: string }>(
        "DELETE",
        `/api/v1/leases/${needId()}`,
        client(v, io),
      );
      return out(answer, () => `Deleted lease ${answer.deleted}.\n`);
    }
    case "import": {
      if (!arg) throw new UsageError("import needs a FILE (CSV or YAML)");
      const format = formatOf(arg, v.format);
      let text: string;
      try {
        text = readFileSync(arg, "utf8");
      } catch (error) {
        throw new InputError(`cannot read ${arg}: ${(error as Error).message}`);
      }
      const records = parseImport(text, format, arg);
      const result = await requestJson<ImportResult>("POST", "/api/v1/leases/import", {
        ...client(v, io),
        body: { records },
      });
      return out(
        result,
        () =>
          `${arg}: ${result.created.length} created, ${result.updated.length} updated, ${result.unchanged.length} unchanged.\n`,
      );
    }
    default:
      throw new UsageError(cmd ? `unknown command ${JSON.stringify(cmd)}` : "a command is needed");
  }
}

export function run(args: string[], io: LeaseIo = defaultIo()): Promise<number> {
  return runApiCli(
    {
      name: "gputel lease",
      usage: USAGE,
      parse,
      command,
      exitCodeOf: (error) => (error instanceof LeaseDataError ? 65 : undefined),
    },
    args,
    io,
  );
}
