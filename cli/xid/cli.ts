// `gputel xid parse FILE… [--json] [--year YYYY]`: the Xid events in kernel-log dumps (dmesg,
// journalctl -k plain or -o json, syslog, Talos, raw /dev/kmsg records), with NVIDIA's catalogue
// entry for each.
// An operator's triage tool, and the way tests read every fixture.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Style } from "../query/table.js";
import { type DumpSummary, xidRows } from "./events.js";
import { renderRows } from "./render.js";

export const USAGE = `Usage: gputel xid parse FILE... [options]

Prints the NVIDIA Xid events found in kernel-log dumps: dmesg (plain, -T, --time-format=iso,
--decode), journalctl -k (also -o json) / syslog, Talos, raw /dev/kmsg records. FILE - reads
stdin.
NVSwitch SXid lines are counted, not listed (they are not GPU events).

Options:
  --json        one JSON object a line: xid, pci_bus_id, pid, process_name, message, mnemonic,
                description, action, action_basis, action_reason, nvlink5, application_level,
                time, monotonic_us, kmsg_seq, channel, file, line. For NVLink5 Xids (144-150)
                nvlink5 holds the line's unit, link, intrinfo, error status and the row of
                NVIDIA's "XID 144-150 Decode" sheet they select, which then gives the action
  --year YYYY   the year of journal/syslog stamps (they print none); without it such times are
                printed as they appear
  -h, --help    show this help

Exit status: 0; 64 bad usage; 66 a FILE could not be read (the others are still listed).
`;

export interface XidIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): XidIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  isTTY: process.stdout.isTTY === true,
  env: process.env,
});

export async function run(args: string[], io: XidIo = defaultIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    io.stderr(`gputel xid: ${(error as Error).message} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const [command, ...files] = positionals;
  const usage = (message: string) => {
    io.stderr(`gputel xid: ${message} (GPUTEL_E_USAGE)\n\n${USAGE}`);
    return 64;
  };
  if (command !== "parse")
    return usage(command === undefined ? "give a command: parse" : `unknown command '${command}'`);
  if (files.length === 0) return usage("parse needs at least one FILE (- for stdin)");
  let year: number | undefined;
  if (values.year !== undefined) {
    if (!/^\d{4}$/.test(values.year)) return usage(`--year must be a four-digit year, not '${values.year}'`);
    year = Number(values.year);
  }
  const dumps: DumpSummary[] = [];
  let missing = false;
  for (const file of files) {
    let text: string;
    try {
      text = file === "-" ? await io.readStdin() : await readFile(file, "utf8");
    } catch (error) {
      io.stderr(`gputel xid: cannot read ${file}: ${(error as Error).message}\n`);
      missing = true;
      continue;
    }
    dumps.push(xidRows(file, text, year));
  }
  const rows = dumps.flatMap((d) => d.rows);
  if (values.json) {
    for (const row of rows) io.stdout(`${JSON.stringify(row)}\n`);
  } else {
    const style: Style = {
      colour:
        !io.env.NO_COLOR && (io.isTTY || (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== "0")),
    };
    const sxid = dumps.reduce((n, d) => n + d.sxidLines, 0);
    io.stdout(renderRows(rows, files.length > 1, style));
    io.stdout(
      `${rows.length} Xid event(s) in ${dumps.length} file(s)${sxid > 0 ? `; ${sxid} NVSwitch SXid line(s) not listed` : ""}\n`,
    );
  }
  // EX_NOINPUT when a file could not be read, after printing what the others held.
  return missing ? 66 : 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      year: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
