import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deadValuePaths } from "../lib/chartData";
import { readsValue, templateReads } from "../lib/chartTemplates";

/** A chart written for the test: what its templates read is known line by line. */
function chart(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-templates-"));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe("dead values by the chart's templates, not by the names of keys", () => {
  const dir = chart({
    "Chart.yaml":
      "apiVersion: v2\nname: x\nversion: 1.0.0\ndependencies:\n  - name: sub\n    version: 1.0.0\n    condition: sub.enabled\n",
    "values.yaml": "replicaCount: 1\n",
    "templates/_helpers.tpl":
      '{{- define "x.labels" -}}\napp: {{ .Values.nameOverride | default .Chart.Name }}\n{{- end }}\n',
    "templates/deployment.yaml": [
      "{{- with .Values.podSecurityContext }}",
      "securityContext: {{- toYaml . | nindent 2 }}",
      "{{- end }}",
      "replicas: {{ .Values.replicaCount }}",
      "{{- if .Values.metrics.enabled }}",
      "port: {{ .Values.metrics.port }}",
      "{{- end }}",
      "{{- range $name, $value := .Values.extraEnv }}",
      "- name: {{ $name }}",
      "{{- end }}",
      "{{- with .Values.server }}",
      "image: {{ .image.repository }}",
      "{{- end }}",
      '{{ include "x.labels" . }}',
      "",
    ].join("\n"),
    "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    "charts/sub/templates/cm.yaml": "data: {{ toYaml .Values.data }}\n",
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads what the templates read: a field, a whole map, a map through with and range, a subchart's", () => {
    const reads = templateReads(dir);
    assert.equal(readsValue(reads, ["replicaCount"]), "read");
    assert.equal(readsValue(reads, ["podSecurityContext", "runAsUser"]), "read", "handed whole to toYaml");
    assert.equal(readsValue(reads, ["extraEnv", "ANY"]), "read", "ranged over whole");
    assert.equal(readsValue(reads, ["server", "image", "repository"]), "read", "a field of . inside with");
    assert.equal(readsValue(reads, ["server", "image", "tag"]), "unread");
    assert.equal(readsValue(reads, ["sub", "data", "k"]), "read", "under the subchart's name");
    assert.equal(readsValue(reads, ["metrics"]), "above");
  });

  it("finds keys named like live ones where the chart never reads them, and nothing it reads", () => {
    const values = {
      replicaCount: 2,
      podSecurityContext: { runAsUser: 1000 },
      securityContext: { runAsUser: 1000 },
      readinessProbe: { periodSeconds: 5 },
      metrics: { enabled: true, port: 9090, path: "/metrics" },
      extraEnv: { MODE: "x" },
      server: { image: { repository: "r", tag: "t" } },
      nameOverride: "n",
      sub: { enabled: true, data: { a: "b" } },
      global: { imageRegistry: "mirror.example" },
    };
    assert.deepEqual(deadValuePaths(values, dir), [
      "securityContext",
      "readinessProbe",
      "metrics.path",
      "server.image.tag",
    ]);
  });
});
