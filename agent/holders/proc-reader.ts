// For each pid: user, start time and workload, read from `<procRoot>/PID/{status,stat,cgroup}`,
// `<procRoot>/stat` and the passwd file. Both roots are settings so tests point them at fixture
// trees. Never reads `cmdline` or `environ`. A file that cannot be read leaves its fields absent
// with the reason, never a guess.
//
// Cost matters here (bench agent.cpu_pct_processes: 128 processes every compute-apps poll), so:
// procfs files are read synchronously (generated in memory, they never wait on a disk, and one
// read is a few µs where an async read is four thread-pool round trips); a process life already
// read (same pid, same start time in `stat`) reuses its user and workload until they are older
// than `maxAgeMs`, so a steady set of processes costs one `stat` read each per poll, and nothing
// else: paths are built by concatenation (path.join's normalising loop cost as much as the read
// under the agent's --jitless), and the pid's directory is looked at only when `stat` is missing,
// to tell a vanished pid (every file absent) from a directory that lacks `stat`.
import { readFileSync, statSync } from "node:fs";
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
  /** How long a process life's user and workload are reused before they are read again. */
  maxAgeMs?: number;
  now?: () => number;
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

/** A uid or cgroup change within one process life (setuid, a move between cgroups) shows within this. */
const DEFAULT_MAX_AGE_MS = 60_000;
const FILES = ["status", "stat", "cgroup"] as const;

/** A life read before; its stat's start time and name parsed once, not again at every poll. */
interface CachedLife {
  startTicks: number | undefined;
  comm: string;
  info: HolderInfo;
  readAtMs: number;
}

export class ProcReader {
  private passwd: { mtimeMs: number; names: Map<number, string> } | undefined;
  private passwdProblem: string | undefined;
  private bootTimeSec: number | undefined;
  private readonly lives = new Map<number, CachedLife>();
  private readonly now: () => number;
  /** procRoot normalised once, ending in "/": a pid's directory is this plus the pid. */
  private readonly rootSlash: string;

  constructor(private readonly options: ProcReaderOptions) {
    this.now = options.now ?? Date.now;
    const root = join(options.procRoot);
    this.rootSlash = root.endsWith("/") ? root : `${root}/`;
  }

  async read(pid: number): Promise<HolderInfo> {
    this.refreshPasswd();
    return this.readOne(pid);
  }

  async readAll(pids: readonly number[]): Promise<Map<number, HolderInfo>> {
    this.refreshPasswd();
    const unique = [...new Set(pids)];
    const infos = new Map(unique.map((pid) => [pid, this.readOne(pid)]));
    for (const pid of this.lives.keys()) if (!infos.has(pid)) this.lives.delete(pid);
    return infos;
  }

  private readOne(pid: number): HolderInfo {
    if (!Number.isSafeInteger(pid) || pid <= 0) return { pid, problems: ["pid: not a process id"] };
    // A pid is a positive safe integer: no segment join() would change.
    const dir = `${this.rootSlash}${pid}`;
    const stat = readText(`${dir}/stat`);
    if (stat.problem === "ENOENT" && statSync(dir, { throwIfNoEntry: false }) === undefined) {
      this.lives.delete(pid);
      return { pid, problems: FILES.map((f) => `${f}: ENOENT`) };
    }
    const cached = this.lives.get(pid);
    if (
      cached &&
      stat.text !== undefined &&
      sameLife(cached, stat.text) &&
      this.now() - cached.readAtMs < (this.options.maxAgeMs ?? DEFAULT_MAX_AGE_MS)
    ) {
      return { ...cached.info, problems: [...cached.info.problems] };
    }
    const info = this.readLife(pid, dir, stat);
    if (stat.text !== undefined && info.problems.length === 0)
      this.lives.set(pid, {
        startTicks: startTicksFromStat(stat.text),
        comm: commOf(stat.text),
        info,
        readAtMs: this.now(),
      });
    else this.lives.delete(pid);
    return { ...info, problems: [...info.problems] };
  }

  private readLife(pid: number, dir: string, stat: TextRead): HolderInfo {
    const info: HolderInfo = { pid, problems: [] };
    // Problems are listed in file order so a report is the same every time.
    const texts = FILES.map((f) => (f === "stat" ? stat : readText(`${dir}/${f}`)));
    texts.forEach((r, i) => {
      if (r.problem !== undefined) info.problems.push(`${FILES[i]}: ${r.problem}`);
    });
    const [status, statText, cgroup] = texts.map((r) => r.text);
    const uid = status === undefined ? undefined : uidFromStatus(status);
    if (uid !== undefined) {
      info.uid = uid;
      if (this.passwdProblem !== undefined) info.problems.push(`passwd: ${this.passwdProblem}`);
      const name = this.passwd?.names.get(uid);
      if (name !== undefined) info.user = name;
    } else if (status !== undefined) info.problems.push("status: no Uid line");
    const ticks = statText === undefined ? undefined : startTicksFromStat(statText);
    const boot = this.boot(info);
    if (ticks !== undefined && boot !== undefined) {
      info.startMs = startMs(boot, ticks, this.options.ticksPerSecond ?? 100);
    } else if (statText !== undefined && ticks === undefined) info.problems.push("stat: no start time");
    if (cgroup !== undefined) info.workload = workloadFromCgroup(cgroup);
    return info;
  }

  /** The passwd file, re-read only when its mtime changes; checked once per lookup round. */
  private refreshPasswd(): void {
    try {
      const { mtimeMs } = statSync(this.options.passwdPath);
      if (this.passwd?.mtimeMs !== mtimeMs) {
        this.passwd = { mtimeMs, names: parsePasswd(readFileSync(this.options.passwdPath, "utf8")) };
        // New names: a cached life must not keep a name the file no longer gives.
        this.lives.clear();
      }
      this.passwdProblem = undefined;
    } catch (error) {
      this.passwd = undefined;
      this.passwdProblem = errorCode(error);
    }
  }

  /** Boot time does not change while the host is up: read once. */
  private boot(info: HolderInfo): number | undefined {
    if (this.bootTimeSec !== undefined) return this.bootTimeSec;
    const { text, problem } = readText(join(this.options.procRoot, "stat"));
    if (problem !== undefined) info.problems.push(`stat(boot): ${problem}`);
    this.bootTimeSec = text === undefined ? undefined : bootTimeFromStat(text);
    return this.bootTimeSec;
  }
}

interface TextRead {
  text?: string;
  problem?: string;
}

function readText(path: string): TextRead {
  try {
    return { text: readFileSync(path, "utf8") };
  } catch (error) {
    return { problem: errorCode(error) };
  }
}

/**
 * The same process life: `stat` up to and including field 22 (start time) is unchanged. Fields
 * 3–21 include counters that move, so only pid, name and start time are compared.
 */
function sameLife(before: CachedLife, after: string): boolean {
  const a = before.startTicks;
  return a !== undefined && a === startTicksFromStat(after) && before.comm === commOf(after);
}

function commOf(stat: string): string {
  return stat.slice(0, stat.lastIndexOf(")") + 1);
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}
