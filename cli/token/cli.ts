// `gputel token add|list|revoke`: API tokens with a role, made on the collector's host against
// its database (found through the collector's configuration), not over the API: making the
// first admin token must not need an admin token, and a new token's secret then never crosses
// the network. The secret is printed once; only its SHA-256 is stored (collector/api/tokens.ts).
// Exit statuses: 64 bad usage (no --role, no token ID, extra operands), 65 bad role or unknown
// token id, 78 configuration or database not usable.
import { parseArgs } from "node:util";
import { newToken, parseRole } from "../../collector/api/tokens.js";
import { loadCollectorConfig } from "../../collector/config.js";
import type { LeaseStore } from "../../collector/store/leases.js";
import { openTokenStore } from "../../collector/store/tokens.js";
import { extraOperands } from "../../shared/cli/operands.js";
import { EX_CONFIG, formatProblems } from "../../shared/config/problems.js";
import { errorMessage } from "../../shared/errors.js";
import { table } from "../query/table.js";

const USAGE = `Usage: gputel token <command> [options]

Commands:
  add --role ROLE [--note TEXT]   make a token and print it once; ROLE is admin, viewer or
                                  tenant:NAME (a tenant sees only the GPUs it leases; NAME is
                                  case-sensitive: a warning when no lease names it yet)
  list                            tokens without their secrets
  revoke ID                       revoke a token at once

Options:
  -c, --config FILE    the collector's configuration (default /etc/gputel/collector.yaml)
      --database FILE  the collector's database (instead of the configuration's)
      --json           JSON output
  -h, --help

Run on the collector's host, as the user that owns its database. The collector's own
http.token keeps working as an admin token.
`;

export interface TokenIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now: () => number;
  user: string;
}

const defaultIo = (): TokenIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  now: Date.now,
  user: process.env.USER ?? "unknown",
});

class DataError extends Error {}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      database: { type: "string" },
      role: { type: "string" },
      note: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

/**
 * A warning when no lease names a tenant token's tenant exactly (names are case-sensitive, so
 * tenant:ACME sees nothing of acme's leases), naming one that differs only by case; the token is
 * made all the same, as one for a tenant whose leases are still to come is legitimate.
 */
function unleasedTenantWarning(role: string, leases: Pick<LeaseStore, "tenantsNamed">): string | undefined {
  const tenant = parseRole(role, "")?.tenant;
  if (tenant === undefined) return undefined;
  const named = leases.tenantsNamed(tenant);
  if (named.includes(tenant)) return undefined;
  const hint = named[0] !== undefined ? ` (did you mean ${JSON.stringify(named[0])}?)` : "";
  return `no lease names tenant ${JSON.stringify(tenant)} yet${hint}; the token sees nothing until one does`;
}

function act(
  opened: ReturnType<typeof openTokenStore>,
  v: ReturnType<typeof parse>["values"],
  positionals: string[],
  io: TokenIo,
): void {
  const [cmd, arg] = positionals;
  const tokens = opened.tokens;
  const out = (json: unknown, text: string) =>
    io.stdout(v.json ? `${JSON.stringify(json, null, 2)}\n` : text);
  if (cmd === "add") {
    const role = v.role ?? "";
    if (!parseRole(role, ""))
      throw new DataError(`--role ${JSON.stringify(role)} is not admin, viewer or tenant:NAME`);
    const t = newToken();
    tokens.insert(t.id, role, t.digest, v.note ?? `made by ${io.user}`, io.now());
    const warning = unleasedTenantWarning(role, opened.leases);
    if (warning) io.stderr(`gputel token: ${warning}\n`);
    out(
      { id: t.id, role, token: t.token },
      `${t.token}\n` +
        `(token ${t.id}, role ${role}: shown this once; only its SHA-256 is stored. Give it as\n` +
        ` Authorization: Bearer, --token-file or GPUTEL_API_TOKEN.)\n`,
    );
  } else if (cmd === "list") {
    const list = tokens.list();
    const iso = (ms: number | null) =>
      ms === null ? "–" : new Date(ms).toISOString().slice(0, 16).replace("T", " ");
    out(
      list,
      list.length === 0
        ? "No tokens.\n"
        : table(
            { colour: false },
            ["ID", "ROLE", "CREATED", "REVOKED", "NOTE"],
            list.map((t) => [
              { text: t.id },
              { text: t.role },
              { text: iso(t.createdMs) },
              { text: iso(t.revokedMs) },
              { text: t.note },
            ]),
          ),
    );
  } else if (cmd === "revoke") {
    // Never empty here: run() refuses a revoke without an ID as bad usage before opening anything.
    if (!arg) throw new Error("revoke needs a token ID");
    if (!tokens.revoke(arg, io.now())) {
      const known = tokens.get(arg);
      throw new DataError(known ? `token ${arg} was revoked already` : `no token ${JSON.stringify(arg)}`);
    }
    out({ revoked: arg }, `Revoked token ${arg}.\n`);
  } else {
    throw new DataError(cmd ? `unknown command ${JSON.stringify(cmd)}` : "a command is needed");
  }
}

export async function run(args: string[], io: TokenIo = defaultIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`gputel token: ${errorMessage(error)}\n\n${USAGE}`);
    return 64;
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  const [cmd = "", ...operands] = parsed.positionals;
  if (!["add", "list", "revoke"].includes(cmd)) {
    io.stderr(
      `gputel token: ${cmd ? `unknown command ${JSON.stringify(cmd)}` : "a command is needed"}\n\n${USAGE}`,
    );
    return 64;
  }
  const extra = extraOperands(
    operands,
    cmd === "revoke" ? 1 : 0,
    `${cmd} takes ${cmd === "revoke" ? "one token ID" : "no operand"}`,
  );
  // A missing option or operand is bad usage, as for `gputel lease` (requireOptions, "needs a
  // lease ID"), not a refused role or an unknown token.
  const problem =
    cmd === "add" && v.role === undefined
      ? "add needs --role (admin, viewer or tenant:NAME)"
      : cmd === "revoke" && !operands[0]
        ? "revoke needs a token ID (see gputel token list)"
        : extra;
  if (problem) {
    io.stderr(`gputel token: ${problem}\n\n${USAGE}`);
    return 64;
  }
  let database = v.database;
  if (database === undefined) {
    const loaded = loadCollectorConfig({ file: v.config });
    if (!loaded.ok) {
      io.stderr(formatProblems("collector", loaded.file, loaded.problems));
      return EX_CONFIG;
    }
    database = loaded.config.database;
  }
  let opened: ReturnType<typeof openTokenStore>;
  try {
    opened = openTokenStore(database);
  } catch (error) {
    io.stderr(`gputel token: cannot open the collector's database ${database}: ${errorMessage(error)}\n`);
    return EX_CONFIG;
  }
  try {
    act(opened, v, parsed.positionals, io);
    return 0;
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
    io.stderr(`gputel token: ${error.message}\n`);
    return 65;
  } finally {
    opened.close();
  }
}
