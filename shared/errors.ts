// One catalogue of error codes. Every code is documented in docs/errors.md with this meaning;
// test/docs/errors-doc.test.ts fails when the two differ.

export const ERROR_CODES = {
  GPUTEL_E_USAGE: "Bad command-line usage.",
  GPUTEL_E_CONFIG: "The configuration is invalid; every problem is listed with its key path.",
  GPUTEL_E_NVSMI_MISSING: "The nvidia-smi executable was not found or could not be started.",
  GPUTEL_E_NVSMI_DRIVER: "nvidia-smi could not communicate with the NVIDIA driver (driver not loaded).",
  GPUTEL_E_NVSMI_NO_DEVICES: "nvidia-smi found no GPU.",
  GPUTEL_E_NVSMI_TIMEOUT:
    "nvidia-smi produced no complete sample within 3 intervals; it was killed and restarted.",
  GPUTEL_E_NVSMI_EXIT: "nvidia-smi exited unexpectedly.",
  GPUTEL_E_NVSMI_OUTPUT: "nvidia-smi printed output that could not be parsed.",
  GPUTEL_E_NVSMI_STUCK:
    "A killed nvidia-smi child did not exit (uninterruptible sleep); no new child is started.",
  GPUTEL_E_KERNEL_LOG:
    "The kernel-log reader (kernel_log.command) could not be started or exited; it is restarted with backoff.",
  GPUTEL_E_KERNEL_LOG_STUCK:
    "A killed kernel-log reader did not exit (uninterruptible sleep); no new reader is started.",
  GPUTEL_E_INVENTORY: "nvidia-smi -q -x failed, timed out or printed XML that could not be read.",
  GPUTEL_E_MQTT: "The MQTT connection failed.",
  GPUTEL_E_SPOOL: "The on-disk spool could not be opened or written.",
  GPUTEL_E_SPOOL_CORRUPT: "The spool file was corrupt; it was moved aside and a fresh one started.",
  GPUTEL_E_STORE: "The collector's database could not be written; acknowledgements are held back.",
  GPUTEL_E_STORE_LAYOUT:
    "The collector's database was written with another metric layout than this build's (it would misread the samples, so it refuses to open it).",
  GPUTEL_E_INGEST_REJECT: "A received message was rejected (reason in the log and counters).",
  GPUTEL_E_API: "An HTTP API request failed.",
  GPUTEL_E_REMOTE_WRITE:
    "A Prometheus remote_write batch failed: retried (5xx, 429, network) or dropped (other 4xx).",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GputelError extends Error {
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    detail: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "GputelError";
    this.code = code;
    this.detail = detail;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
