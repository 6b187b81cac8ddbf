// `gputel query report processes` as a table: a report a collector had to cut (more sessions in
// the range than it reads for one report) says so under the table; a whole one says nothing. As
// CSV or JSON the same note goes to stderr (a loopback server answers a cut report: a real one
// needs 200,000 sessions).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as queryCli } from "../../cli/query/cli.js";
import { renderProcessReport } from "../../cli/query/processes.js";
import type { ProcessReport } from "../../collector/reports/process-report.js";
import { processReportCsv } from "../../collector/reports/report-csv.js";
import { runCaptured } from "../helpers/cli.js";

const report = (truncated: boolean): ProcessReport => ({
  fromMs: Date.UTC(2026, 10, 1),
  toMs: Date.UTC(2026, 11, 1),
  by: "user",
  rows: [{ key: "alice", sessions: 3, gpus: 2, gpuHours: 12.5, idleHeldHours: 1 }],
  truncated,
});

describe("the process report's table", () => {
  it("says the earlier sessions are left out when a collector cut the range", () => {
    const text = renderProcessReport(report(true), { colour: false });
    expect(text).toMatch(/alice\s+3\s+2/);
    expect(
      text.endsWith(
        "Sessions seen earlier in the range are left out (a collector reads at most so many for a report): ask a shorter range.\n",
      ),
    ).toBe(true);
  });

  it("says nothing of it when every session was read", () => {
    expect(renderProcessReport(report(false), { colour: false })).not.toContain("left out");
  });
});

describe("gputel query report processes --csv / --json of a cut report", () => {
  let server: Server;
  let url = "";
  let cut = true;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(report(cut)));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("says on stderr what the table says under it; stdout stays the CSV or the JSON", async () => {
    const note =
      "gputel query: Sessions seen earlier in the range are left out (a collector reads at most so many for a report): ask a shorter range.\n";
    for (const format of ["csv", "json"]) {
      cut = true;
      const r = await runCaptured(queryCli, ["report", "processes", "--format", format, "--url", url]);
      expect(r.code, r.err).toBe(0);
      expect(r.err, format).toBe(note);
      if (format === "csv") expect(r.out).toBe(processReportCsv(report(true)));
      else expect(JSON.parse(r.out)).toEqual(report(true));
      cut = false;
      const whole = await runCaptured(queryCli, ["report", "processes", "--format", format, "--url", url]);
      expect(whole.err, format).toBe("");
    }
  });
});
