// `--since today|yesterday|this-month|last-month` and a calendar date mean the same in every
// `gputel query` command (the usage lists them for all): events, health, processes and the
// health and processes reports too, not only summary, gpus, flags and the fleet reports. Against
// the built collector, which answers every one of these routes.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run } from "../../cli/query/cli.js";
import { type BuiltCollector, startBuiltCollector } from "../helpers/built-collector.js";
import { runCaptured } from "../helpers/cli.js";

/** A calendar date three days ago in this machine's zone (a fixed date would age past 400 days). */
const DAYS_AGO = (() => {
  const d = new Date(Date.now() - 3 * 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
})();

let collector: BuiltCollector | undefined;
let url: string;

beforeAll(async () => {
  collector = await startBuiltCollector("gputel-since-words-");
  url = collector.url;
}, 40_000);
afterAll(async () => {
  await collector?.stop();
});

describe("gputel query --since words in every command", () => {
  const commands = [["events"], ["processes"], ["report", "health"], ["report", "processes"]];
  for (const command of commands)
    for (const since of ["today", "yesterday", "this-month", "last-month", DAYS_AGO])
      test(`${command.join(" ")} --since ${since}`, async () => {
        const r = await runCaptured(run, [...command, "--since", since, "--json", "--url", url]);
        expect(r.err).toBe("");
        expect(r.code).toBe(0);
      });

  test("--until a word or date as well", async () => {
    const r = await runCaptured(run, ["events", "--since", "last-month", "--until", "today", "--url", url]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
});
