// `gputel flag ack ID --note TEXT`: an operator's acknowledgement of a flag, sent to a collector's
// API (POST /api/v1/flags/:id/ack). An open xid or reset-required flag closes; any flag keeps the
// note in its GPU's health timeline. A collector with http.peers repeats it on their copies of the
// episode; the peers that did not answer are named on stderr. Exit statuses as `gputel lease`: 64 bad usage, 65 refused
// (no such flag, a bad note), 66 unreadable --token-file, 69 the collector cannot be reached,
// 78 the token is missing or lacks the role.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { FlagJson } from "../../collector/contract/api-contract.js";
import { mergeFlagPages } from "../../collector/merge/list-answers.js";
import { extraOperands } from "../../shared/cli/operands.js";
import { hasCredentials } from "../../shared/mask.js";
import { RequestError, requestJson } from "../lease/request.js";
import { getAll, QueryError } from "../query/client.js";
import { exitStatusOfHttp } from "../query/exit-status.js";
import { gpuRef, markedFlagAnswers } from "../query/merged.js";

const USAGE = `Usage: gputel flag ack ID --note TEXT [--gpu GPU] [--url URL[,URL...]] [--token-file F] [--json]

Acknowledges flag ID (see \`gputel query flags\`): the note is recorded, and an open xid or
reset-required flag closes (you vouch that the GPU was reset, replaced or checked). The flag is
first read from the collector's flag list (its open flags; with --gpu, that GPU's, closed too)
and sent with its GPU, kind and start, so nothing but that flag is acknowledged (without peers,
a flag not listed goes by its ID alone, ids being that collector's). A collector with
peers (http.peers) lists their flags under their own ids, which another flag may show too: give
--gpu when the CLI says so. It acknowledges the flag wherever it is held and repeats it on every
copy of the same episode; a peer that did not answer is named on stderr, its copy still open.
Several --url (as \`gputel query flags --url a,b\`, whose ids are each collector's own, one not
the first's marked with its \`peer\`): the flag is read from their lists merged as that shows
them and acknowledged on the collector whose id it is. Give the same --url as the query.

Options:
  --note TEXT        what was done (required, at most 1000 characters)
  --gpu GPU          the flag's GPU (UUID or host:index), where several flags show ID
  --url URL          collector API (default http://127.0.0.1:8080); several: --url a,b
  --token-file F     file holding the API token (else env GPUTEL_API_TOKEN)
  --json             print the API's JSON
  -h, --help

Exit status: 64 bad usage (several flags show ID), 65 refused (no such flag), 66 unreadable --token-file,
69 collector unreachable or failing, 78 token missing or lacking the role.
`;

export interface FlagIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): FlagIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
});

export async function run(args: string[], io: FlagIo = defaultIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`gputel flag: ${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  const [command, id] = positionals;
  const usage = (message: string) => {
    io.stderr(`gputel flag: ${message} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  };
  if (command !== "ack")
    return usage(command ? `unknown command ${JSON.stringify(command)}` : "a command is needed");
  if (!id || !/^[1-9][0-9]{0,15}$/.test(id))
    return usage("ack needs a flag ID (a number, see gputel query flags)");
  const extra = extraOperands(positionals.slice(1), 1, "ack takes one flag ID");
  if (extra) return usage(extra);
  const note = v.note?.trim() ?? "";
  if (note === "" || note.length > 1000) return usage("--note is required (1 to 1000 characters)");
  // Several (--url a,b, as gputel query flags): the flag is read from their lists merged as that
  // merges them, and acknowledged on the collector whose id it shows (markedFlagAnswers).
  const urls = (v.url ?? ["http://127.0.0.1:8080"])
    .flatMap((u) => u.split(","))
    .map((u) => u.replace(/\/+$/, ""))
    .filter((u) => u !== "");
  const [url] = urls;
  if (url === undefined) return usage("--url needs a collector URL");
  if (urls.some(hasCredentials))
    return usage("--url must not carry a password or token: use --token-file or GPUTEL_API_TOKEN");
  let token = io.env.GPUTEL_API_TOKEN;
  try {
    if (v["token-file"] !== undefined) token = readFileSync(v["token-file"], "utf8").trim();
  } catch (error) {
    io.stderr(`gputel flag: cannot read --token-file: ${(error as Error).message}\n`);
    return 66;
  }
  let body: {
    flag?: { id: number; kind: string; endMs: number | null };
    ack?: { atMs: number };
    acknowledgedOn?: string[];
    peers?: { errors?: { peer: string; error: string }[] };
  };
  const client = { urls, ...(token ? { token } : {}), timeoutMs: 30_000 };
  let listed: Listed | undefined;
  // The collector whose id the listed flag shows: the first, or another URL it was marked with.
  let target = url;
  try {
    const found = await listedFlags(client, Number(id), v.gpu);
    if (found.flags.length > 1)
      return usage(
        `several flags show ID ${id} (collectors number their own): give --gpu, one of ${found.flags.map(describe).join("; ")}`,
      );
    listed = found.flags[0];
    // With peers, never by id alone: the id may be a peer's, another flag's here. A collector
    // without peers lists only its own ids: one not listed open (a closed flag) goes by id.
    if (!listed && found.peers) {
      io.stderr(
        `gputel flag: no ${v.gpu ? `flag ${id} of ${v.gpu}` : `open flag ${id} (give --gpu GPU for a closed one)`} in the merged flag list\n`,
      );
      return 65;
    }
    if (listed?.peer !== undefined && urls.includes(listed.peer)) {
      // That collector's own id: named there by its episode, as a flag of its own list.
      target = listed.peer;
      const { peer: _, ...own } = listed;
      listed = own;
    }
    body = await requestJson<typeof body>("POST", `/api/v1/flags/${id}/ack`, {
      ...client,
      urls: [target],
      body: { note, ...(listed ? episodeOf(listed) : {}) },
    });
  } catch (error) {
    // A collector of several --url that failed answers as the query CLI's client says (QueryError).
    if (!(error instanceof RequestError || error instanceof QueryError)) throw error;
    io.stderr(`gputel flag: ${error.message}\n`);
    return exitStatusOfHttp(error.status);
  }
  // A peer's flag (the list named it): where it was acknowledged, the collector asked holding none.
  const where =
    target !== url
      ? ` on ${target}`
      : listed?.peer !== undefined
        ? ` on ${(body.acknowledgedOn ?? []).join(", ")}`
        : "";
  if (v.json) io.stdout(`${JSON.stringify(body, null, 2)}\n`);
  else
    io.stdout(
      `Flag ${id} (${body.flag?.kind ?? "?"}) acknowledged${where}${outcome(body.flag?.endMs, body.ack?.atMs)}.\n`,
    );
  // The collector repeats it on its peers' copies (http.peers); one that did not answer keeps its
  // copy open, and the operator must hear of it, whatever the output format. The acknowledgement
  // stands on the collector asked, so the status is still 0.
  for (const missed of body.peers?.errors ?? [])
    io.stderr(
      `gputel flag: not acknowledged on ${missed.peer} (${missed.error}): its copy of the flag stays open there\n`,
    );
  return 0;
}

/**
 * What the acknowledgement did to the flag. One that closes a flag ends it at its own time; a
 * flag that ended before it (its condition cleared, or an earlier acknowledgement) was not closed
 * by this one, and saying so would tell the operator the GPU's problem had just been dealt with.
 */
function outcome(endMs: number | null | undefined, atMs: number | undefined): string {
  if (endMs === null || endMs === undefined) return "; it stays open until its condition clears";
  if (atMs !== undefined && endMs < atMs) return `; it had closed at ${new Date(endMs).toISOString()}`;
  return " and closed";
}

/** A flag as the collector's (merged) list shows it: what names its episode. */
type Listed = Pick<FlagJson, "id" | "kind" | "host" | "gpuUuid" | "startMs" | "endMs" | "values" | "peer">;

/**
 * The flags the collector lists under `id`: its open ones, or `gpu`'s (closed too, the newest
 * 10,000). `peers`: the collector merged its peers' lists (http.peers), so ids may repeat. Several
 * URLs: their lists merged as `gputel query flags --url a,b` merges them, another URL's ids marked.
 */
async function listedFlags(
  client: { urls: string[]; token?: string; timeoutMs: number },
  id: number,
  gpu: string | undefined,
): Promise<{ flags: Listed[]; peers: boolean }> {
  const state = gpu === undefined ? "open" : "all";
  if (client.urls.length > 1) {
    const several = { ...client, ownDataOnly: true };
    const ref = gpu === undefined ? undefined : (await gpuRef(gpu, several)).ref;
    const query = { state, limit: "10000", gpu: ref };
    const answers = await getAll<{ flags: FlagJson[]; generatedMs: number }>("/api/v1/flags", query, several);
    const now = Math.max(...answers.map((a) => a.generatedMs));
    const { flags } = mergeFlagPages(markedFlagAnswers(answers, client.urls), state, 10_000, now);
    return { flags: flags.filter((f) => f.id === id), peers: true };
  }
  const query = { state, limit: "10000", gpu };
  const list = await requestJson<{ flags: Listed[]; peers?: unknown }>("GET", "/api/v1/flags", {
    ...client,
    query,
  });
  return { flags: list.flags.filter((f) => f.id === id), peers: list.peers !== undefined };
}

/** The body fields that name `f`'s episode to the acknowledgement route (ListedEpisode). */
function episodeOf(f: Listed) {
  const { kind, host, gpuUuid, startMs, endMs, values, peer } = f;
  return { kind, host, gpuUuid, startMs, endMs, values, ...(peer !== undefined ? { peer } : {}) };
}

function describe(f: Listed): string {
  return `${f.kind} on ${f.gpuUuid ?? f.host} (${f.host})${f.peer !== undefined ? ` held by ${f.peer}` : ""}`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      note: { type: "string" },
      gpu: { type: "string" },
      url: { type: "string", multiple: true },
      "token-file": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
