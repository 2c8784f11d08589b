/**
 * npm run charts:pull [-- --charts DIR]
 *
 * Downloads every chart components/charts.ts pins (HTTPS repository or oci://) into the chart
 * cache (default <user cache>/doc-rag-platform/charts), one folder per chart and version, for
 * `npm run render` to read. Needs a network; charts already cached are kept.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { CHARTS, chartVersionDir, localChart, type Chart } from "../components/charts";
import { defaultChartsDir, helmBinary } from "../lib/helm";

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { charts: { type: "string" } } });
  const chartsDir = values.charts ?? defaultChartsDir();
  const helm = helmBinary();
  let failed = 0;
  for (const chart of Object.values(CHARTS) as Chart[]) {
    if (localChart(chartsDir, chart)) {
      console.log(`${chart.chart} ${chart.version}: cached`);
      continue;
    }
    const destination = chartVersionDir(chartsDir, chart);
    fs.mkdirSync(destination, { recursive: true });
    // Unpacked, so render can also check the values the program sets against the chart's own.
    const args = ["pull", chart.chart, "--version", chart.version, "--untar", "--untardir", destination];
    if (chart.repo) args.push("--repo", chart.repo);
    const result = spawnSync(helm, args, { encoding: "utf8" });
    if (result.status === 0) {
      console.log(`${chart.chart} ${chart.version}: pulled`);
    } else {
      failed++;
      console.error(`${chart.chart} ${chart.version}: ${(result.stderr || result.error?.message || "").trim()}`);
    }
  }
  console.log(`charts in ${chartsDir}`);
  return failed ? 1 : 0;
}
