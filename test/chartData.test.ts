import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { CHARTS, type Chart } from "../components/charts";
import {
  CHART_DATA,
  chartDataDir,
  chartDefaults,
  conflictingDisruptionBudgets,
  crdValidator,
  deadValuePaths,
  mergedValues,
  structural,
} from "../lib/chartData";
import { kubernetesObjects, ofType, runStack, unwrapSecrets, type StackRun } from "./harness";

const STACKS = ["dev", "pr", "staging", "production"] as const;
const HELM = "kubernetes:helm.sh/v3:Release";
const present = fs.existsSync(CHART_DATA);

/** The pinned chart a release installs. */
function chartOf(release: { inputs: Record<string, unknown> }): Chart {
  const chart = (Object.values(CHARTS) as Chart[]).find((c) => c.chart === release.inputs["chart"]);
  assert.ok(chart, `release of unpinned chart ${String(release.inputs["chart"])}`);
  return chart;
}

describe("against the upstream charts (../shared/charts)", function () {
  before(function () {
    if (!present) {
      console.warn(`    (skipped: no chart data at ${CHART_DATA}; set CHART_DATA)`);
      this.skip();
    }
  });

  it("pins every chart to a published version that has upstream data", () => {
    const missing = (Object.values(CHARTS) as Chart[]).filter((c) => !chartDataDir(c));
    assert.deepEqual(
      missing.map((c) => `${c.chart} ${c.version}`),
      [],
      "pin a version listed in ../shared/charts",
    );
  });

  for (const stack of STACKS) {
    describe(stack, () => {
      let run: StackRun;
      before(async () => {
        run = await runStack(stack, stack === "pr" ? { configFrom: "pr" } : {});
        assert.equal(run.error, undefined, run.error?.message);
      });

      it("sets only values the pinned charts read (no dead keys)", () => {
        const dead = ofType(run, HELM).flatMap((release) => {
          const dir = chartDataDir(chartOf(release));
          if (!dir) return [`${String(release.inputs["name"])}: no chart data`];
          const values = unwrapSecrets<Record<string, unknown>>(release.inputs["values"] ?? {});
          return deadValuePaths(values, dir).map((p) => `${String(release.inputs["name"])}: ${p}`);
        });
        assert.deepEqual(dead, []);
      });

      it("leaves no disruption budget with both minAvailable and maxUnavailable once Helm merges the defaults", () => {
        const conflicts = ofType(run, HELM).flatMap((release) => {
          const dir = chartDataDir(chartOf(release));
          if (!dir) return [];
          const values = unwrapSecrets<Record<string, unknown>>(release.inputs["values"] ?? {});
          const merged = mergedValues(chartDefaults(dir), values);
          return conflictingDisruptionBudgets(merged).map((p) => `${String(release.inputs["name"])}: ${p}`);
        });
        assert.deepEqual(conflicts, []);
      });

      it("creates custom resources that validate against the pinned charts' CRDs (unknown fields are errors)", () => {
        const dirs = (Object.values(CHARTS) as Chart[]).flatMap((c) => chartDataDir(c) ?? []);
        const problems: string[] = [];
        let checked = 0;
        for (const { object } of kubernetesObjects(run)) {
          const validate = crdValidator(dirs, object.apiVersion, object.kind);
          if (!validate) continue;
          checked++;
          if (!validate(unwrapSecrets(object))) {
            for (const e of validate.errors ?? []) {
              const extra = e.keyword === "additionalProperties" ? ` (${String(e.params["additionalProperty"])})` : "";
              problems.push(`${object.kind}/${object.metadata.name}: ${e.instancePath} ${e.message}${extra}`);
            }
          }
        }
        assert.ok(checked > 0, "no custom resource was checked");
        assert.deepEqual(problems, []);
      });
    });
  }
});

describe("the chart-data checks themselves", () => {
  it("find a dead key, and accept keys the defaults, the schema or a free-form map allow", function () {
    const dir = chartDataDir(CHARTS.valkey);
    if (!dir) return this.skip();
    assert.deepEqual(deadValuePaths({ replica: { enabled: true }, bogusKey: 1, podAnnotations: { a: "b" } }, dir), [
      "bogusKey",
    ]);
    assert.deepEqual(deadValuePaths({ replica: { enabledd: true } }, dir), ["replica.enabledd"]);
  });

  it("refuse a pin with no upstream data, and an unknown field in a real custom resource", function () {
    assert.equal(chartDataDir({ chart: "falco", version: "9.1.1", repo: CHARTS.falco.repo }), undefined);
    const dir = chartDataDir(CHARTS.prometheusOperatorCrds);
    if (!dir) return this.skip();
    const validate = crdValidator([dir], "monitoring.coreos.com/v1", "ServiceMonitor")!;
    const monitor = { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "m" } };
    assert.equal(validate({ ...monitor, spec: { selector: {}, endpoints: [{ port: "metrics" }] } }), true);
    assert.equal(
      validate({ ...monitor, spec: { selector: {}, endpoints: [{ port: "metrics", podTargetLabel: ["x"] }] } }),
      false,
    );
    assert.match(JSON.stringify(validate.errors), /podTargetLabel/);
  });

  it("treat an unknown field of a custom resource as an error unless the schema preserves unknown fields", () => {
    const schema = structural({
      type: "object",
      properties: {
        spec: { type: "object", properties: { a: { type: "string" } } },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        port: { "x-kubernetes-int-or-string": true },
      },
    });
    assert.equal(
      (schema["properties"] as Record<string, Record<string, unknown>>)["spec"]!["additionalProperties"],
      false,
    );
    assert.equal(
      (schema["properties"] as Record<string, Record<string, unknown>>)["free"]!["additionalProperties"],
      undefined,
    );
    assert.deepEqual((schema["properties"] as Record<string, Record<string, unknown>>)["port"]!["anyOf"], [
      { type: "integer" },
      { type: "string" },
    ]);
  });
});
