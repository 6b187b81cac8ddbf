// Whether a Debian tool a test needs is here. Required when GPUTEL_REQUIRE_<NAME>=1 (a missing
// binary then fails the run, as .ci/run sets after installing it); otherwise the test skips
// with a message naming the package to install.
import { existsSync } from "node:fs";

export interface Tool {
  /** Absolute paths of the binaries the test runs. */
  bins: readonly string[];
  /** GPUTEL_REQUIRE_<require>. */
  require: string;
  /** The Debian package(s) that provide them. */
  apt: string;
  /** What is skipped without them. */
  what: string;
}

export function toolAvailable(tool: Tool): boolean {
  const missing = tool.bins.filter((bin) => !existsSync(bin));
  if (missing.length === 0) return true;
  const env = `GPUTEL_REQUIRE_${tool.require}`;
  if (process.env[env] === "1") {
    throw new Error(`${env}=1 but ${missing.join(", ")} missing (apt-get install ${tool.apt})`);
  }
  console.warn(
    `${tool.what} skipped: ${missing.join(", ")} not found (apt-get install ${tool.apt}; set ${env}=1 to require it)`,
  );
  return false;
}
