// `gputel flag ack ID --note TEXT`: an operator's acknowledgement of a flag, sent to a collector's
// API (POST /api/v1/flags/:id/ack). An open xid or reset-required flag closes; any flag keeps the
// note in its GPU's health timeline. A collector with http.peers repeats it on their copies of the
// episode; the peers that did not answer are named on stderr. Exit statuses as `gputel lease`: 64 bad usage, 65 refused
// (no such flag, a bad note), 66 unreadable --token-file, 69 the collector cannot be reached,
// 78 the token is missing or lacks the role.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { extraOperands } from "../../shared/cli/operands.js";
import { hasCredentials } from "../../shared/mask.js";
import { RequestError, requestJson } from "../lease/request.js";
import { exitStatusOfHttp } from "../query/exit-status.js";

const USAGE = `Usage: gputel flag ack ID --note TEXT [--url URL] [--token-file F] [--json]

Acknowledges flag ID (see \`gputel query flags\`): the note is recorded, and an open xid or
reset-required flag closes (you vouch that the GPU was reset, replaced or checked). A collector
with peers (http.peers) repeats it on their copies of the same episode; a peer that did not
answer is named on stderr, its copy still open.

Options:
  --note TEXT        what was done (required, at most 1000 characters)
  --url URL          collector API (default http://127.0.0.1:8080)
  --token-file F     file holding the API token (else env GPUTEL_API_TOKEN)
  --json             print the API's JSON
  -h, --help

Exit status: 64 bad usage, 65 refused (no such flag), 66 unreadable --token-file,
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
  const url = (v.url ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  if (hasCredentials(url))
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
    peers?: { errors?: { peer: string; error: string }[] };
  };
  try {
    body = await requestJson<typeof body>("POST", `/api/v1/flags/${id}/ack`, {
      urls: [url],
      ...(token ? { token } : {}),
      body: { note },
      timeoutMs: 30_000,
    });
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    io.stderr(`gputel flag: ${error.message}\n`);
    return exitStatusOfHttp(error.status);
  }
  if (v.json) io.stdout(`${JSON.stringify(body, null, 2)}\n`);
  else
    io.stdout(
      `Flag ${id} (${body.flag?.kind ?? "?"}) acknowledged${outcome(body.flag?.endMs, body.ack?.atMs)}.\n`,
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

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      note: { type: "string" },
      url: { type: "string" },
      "token-file": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
