import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHARTS, chartVersionDir, type Chart } from "../components/charts";
import { ofType, runStack } from "./harness";

const HELM = "kubernetes:helm.sh/v3:Release";

/** A chart directory as `npm run charts:pull` leaves it: each pinned chart unpacked in <chart>/<version>/<chart>/. */
function chartDirectory(skip?: Chart): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "charts-dir-"));
  for (const chart of Object.values(CHARTS) as Chart[]) {
    if (chart === skip) continue;
    const name = path.basename(chart.chart);
    const dir = path.join(chartVersionDir(root, chart), name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Chart.yaml"), `apiVersion: v2\nname: ${name}\nversion: ${chart.version}\n`);
  }
  return root;
}

describe("doc-rag:chartsDir: every Helm release from a local chart directory (air-gapped clusters)", () => {
  it("installs each release from its pinned chart's folder, never from a repository", async () => {
    const root = chartDirectory();
    const run = await runStack("production", { overrides: [`doc-rag:chartsDir=${root}`] });
    assert.equal(run.error, undefined);
    const releases = ofType(run, HELM);
    const installed = new Set(releases.map((r) => path.dirname(String(r.inputs["chart"]))));
    assert.deepEqual(installed, new Set((Object.values(CHARTS) as Chart[]).map((c) => chartVersionDir(root, c))));
    for (const release of releases) {
      const chart = String(release.inputs["chart"]);
      assert.ok(chart.startsWith(`${root}${path.sep}`), `${release.name}: ${chart}`);
      assert.ok(fs.existsSync(path.join(chart, "Chart.yaml")), chart);
      assert.equal(release.inputs["repositoryOpts"], undefined, release.name);
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("refuses a directory that lacks a pinned chart, naming it, and registers nothing", async () => {
    const root = chartDirectory(CHARTS.falco);
    const run = await runStack("production", { overrides: [`doc-rag:chartsDir=${root}`] });
    assert.match(
      run.error?.message ?? "",
      /doc-rag:chartsDir: must hold every pinned chart laid out <chart>\/<version>\/ .*; missing: falco 9\.1\.0 /,
    );
    assert.equal(run.resources.length, 0);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
