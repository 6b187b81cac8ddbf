// The counters a supervisor keeps for its source (a leaf: the source interface re-exports it).

/**
 * A source's own health, counted since the agent started (so a restart reads as a counter reset):
 * what its supervisor saw of its children. Reported in the agent's status message.
 */
export interface SourceHealth {
  /** Registry name ("nvidia-smi"). */
  name: string;
  /** Relaunches after a failure (each after its backoff). */
  restarts: number;
  /** Children killed for silence (stream) or for running past their timeout (one-shots). */
  timeouts: number;
  /** Stream children that exited by themselves. */
  exits: number;
  /** Children that did not exit after SIGKILL (uninterruptible sleep in the kernel). */
  stuckChildren: number;
  /** Start-ups that failed (binary missing, driver not loaded, no device). */
  startFailures: number;
  /** The latest failure, as reported; "" when none. */
  lastError: string;
  /** When lastError happened (agent clock, ms since the epoch); 0 when none. */
  lastErrorMs: number;
  /** A stuck child is alive now (and blocks a relaunch of its kind). */
  stuck: boolean;
}
