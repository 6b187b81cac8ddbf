// For each pid: user, start time and workload, read from `<procRoot>/PID/{status,stat,cgroup}`,
// `<procRoot>/stat` and the passwd file. Both roots are settings so tests point them at fixture
// trees. Never reads `cmdline` or `environ`. A file that cannot be read leaves its fields absent
// with the reason, never a guess.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Workload, workloadFromCgroup } from "./cgroup.js";
import { bootTimeFromStat, parsePasswd, startMs, startTicksFromStat, uidFromStatus } from "./proc-files.js";

export interface ProcReaderOptions {
  /** `/proc` in production. */
  procRoot: string;
  /** `/etc/passwd` in production (the agent does not go through NSS: no LDAP/sssd lookups). */
  passwdPath: string;
  /** USER_HZ; 100 on every mainstream Linux architecture (Node cannot call sysconf). */
  ticksPerSecond?: number;
}

export interface HolderInfo {
  pid: number;
  /** Start of this process life (ms since the epoch): (pid, startMs) names one session. */
  startMs?: number;
  uid?: number;
  /** Absent when the passwd file has no entry for the uid (the uid is kept). */
  user?: string;
  workload?: Workload;
  /** Why a field is absent: `status: ENOENT` (the process is gone), `cgroup: EACCES`, … */
  problems: string[];
}

export class ProcReader {
  private passwd: { mtimeMs: number; names: Map<number, string> } | undefined;
  private bootTimeSec: number | undefined;

  constructor(private readonly options: ProcReaderOptions) {}

  async read(pid: number): Promise<HolderInfo> {
    const info: HolderInfo = { pid, problems: [] };
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      info.problems.push(`pid: not a process id`);
      return info;
    }
    const dir = join(this.options.procRoot, String(pid));
    // Read in parallel, but record problems in file order so a report is the same every time.
    const [status, statText, cgroup] = await Promise.all(
      ["status", "stat", "cgroup"].map((f) => this.text(join(dir, f), f)),
    ).then((results) =>
      results.map((r) => {
        if (r.problem !== undefined) info.problems.push(r.problem);
        return r.text;
      }),
    );
    const uid = status === undefined ? undefined : uidFromStatus(status);
    if (uid !== undefined) {
      info.uid = uid;
      const name = (await this.names(info)).get(uid);
      if (name !== undefined) info.user = name;
    } else if (status !== undefined) info.problems.push("status: no Uid line");
    const ticks = statText === undefined ? undefined : startTicksFromStat(statText);
    const boot = await this.boot(info);
    if (ticks !== undefined && boot !== undefined) {
      info.startMs = startMs(boot, ticks, this.options.ticksPerSecond ?? 100);
    } else if (statText !== undefined && ticks === undefined) info.problems.push("stat: no start time");
    if (cgroup !== undefined) info.workload = workloadFromCgroup(cgroup);
    return info;
  }

  async readAll(pids: readonly number[]): Promise<Map<number, HolderInfo>> {
    const unique = [...new Set(pids)];
    const infos = await Promise.all(unique.map((pid) => this.read(pid)));
    return new Map(infos.map((i) => [i.pid, i]));
  }

  private async text(path: string, label: string): Promise<{ text?: string; problem?: string }> {
    try {
      return { text: await readFile(path, "utf8") };
    } catch (error) {
      return { problem: `${label}: ${errorCode(error)}` };
    }
  }

  /** The passwd file, re-read only when its mtime changes. */
  private async names(info: HolderInfo): Promise<Map<number, string>> {
    try {
      const { mtimeMs } = await stat(this.options.passwdPath);
      if (this.passwd?.mtimeMs !== mtimeMs) {
        this.passwd = { mtimeMs, names: parsePasswd(await readFile(this.options.passwdPath, "utf8")) };
      }
      return this.passwd.names;
    } catch (error) {
      info.problems.push(`passwd: ${errorCode(error)}`);
      return new Map();
    }
  }

  /** Boot time does not change while the host is up: read once. */
  private async boot(info: HolderInfo): Promise<number | undefined> {
    if (this.bootTimeSec !== undefined) return this.bootTimeSec;
    const { text, problem } = await this.text(join(this.options.procRoot, "stat"), "stat(boot)");
    if (problem !== undefined) info.problems.push(problem);
    this.bootTimeSec = text === undefined ? undefined : bootTimeFromStat(text);
    return this.bootTimeSec;
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}
