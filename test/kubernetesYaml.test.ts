import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { kubectlBinary } from "../lib/helm";
import { documentsOf, main } from "../tools/policyCheck";
import { captureConsole } from "./harness";

/** YAML 1.1 spellings of booleans, as go-yaml v2 resolves them, and plain ones; quoted stays a string. */
const BOOLEANS = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"];
const MORE = ["true", "false", "True", "FALSE", '"yes"', "'on'", "~", "null"];
const NUMBERS = ["0", "00", "0x0", "1_000", "1000", "017", "0x3e8", '"0"', "1:00", "-1"];
const POD_FIELDS = ["hostNetwork", "hostPID", "hostIPC"];
const CONTAINER_FIELDS = ["privileged", "allowPrivilegeEscalation", "runAsNonRoot", "readOnlyRootFilesystem"];

/** A small deterministic generator, so the corpus is the same on every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** One Pod per case, with host namespaces, security context and runAsUser written in YAML 1.1 forms. */
function corpus(count: number): string {
  const next = random(42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    const merged = next() < 0.4;
    const ctx = CONTAINER_FIELDS.map((f) => `${f}: ${pick([...BOOLEANS, ...MORE])}`);
    const lines = [
      ...(merged ? [`defaults: &defaults`, ...ctx.slice(0, 2).map((l) => `  ${l}`)] : []),
      "apiVersion: v1",
      "kind: Pod",
      `metadata: {name: p${i}, namespace: ns}`,
      "spec:",
      ...POD_FIELDS.map((f) => `  ${f}: ${pick(BOOLEANS)}`),
      `  securityContext: {runAsUser: ${pick(NUMBERS)}}`,
      "  containers:",
      "  - name: c",
      "    image: registry.example/c@sha256:" + "a".repeat(64),
      "    securityContext:",
      ...(merged ? ["      <<: *defaults", ...ctx.slice(2).map((l) => `      ${l}`)] : ctx.map((l) => `      ${l}`)),
      `      runAsUser: ${pick(NUMBERS)}`,
    ];
    docs.push(lines.join("\n"));
  }
  return docs.join("\n---\n") + "\n";
}

type Pod = {
  spec: Record<string, unknown> & {
    securityContext?: Record<string, unknown>;
    containers: { securityContext?: Record<string, unknown> }[];
  };
};

/** The fields the pod-security rules read here. */
const read = (pod: Pod): Record<string, unknown> & { container?: Record<string, unknown> } => ({
  ...Object.fromEntries(POD_FIELDS.map((f) => [f, pod.spec[f]])),
  podRunAsUser: pod.spec.securityContext?.["runAsUser"],
  container: pod.spec.containers[0]?.securityContext,
});

describe("policy:check reads manifests as kubectl does (YAML 1.1, merge keys)", function () {
  let kubectl: string;
  before(function () {
    try {
      kubectl = kubectlBinary();
    } catch {
      this.skip();
    }
  });

  it("agrees with kubectl on every field the pod-security rules read, over 500 generated manifests", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-yaml-"));
    const file = path.join(dir, "corpus.yaml");
    fs.writeFileSync(file, corpus(500));
    // kubectl label --local parses locally, with the client's own YAML reader, and prints what it read.
    const result = spawnSync(kubectl, ["label", "--local", "-f", file, "-o", "json", "e2e=read"], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: "/dev/null" },
      maxBuffer: 64 * 2 ** 20,
    });
    assert.equal(result.status, 0, result.stderr);
    // One pretty-printed JSON object per document, one after the other.
    const theirs = result.stdout
      .split(/\n(?=\{\n)/)
      .map((text) => JSON.parse(text) as Pod)
      .map(read);
    const ours = [...documentsOf(file)].map((d) => read(d.object as unknown as Pod));
    assert.equal(theirs.length, 500);
    const disagreements = ours.flatMap((o, i) =>
      isDeepStrictEqual(o, theirs[i]) ? [] : [`p${i}: ours ${JSON.stringify(o)} kubectl ${JSON.stringify(theirs[i])}`],
    );
    assert.deepEqual(disagreements.slice(0, 5), []);
    // The corpus exercises what matters: true host namespaces and privileged containers through YAML 1.1.
    assert.ok(ours.filter((o) => o["hostNetwork"] === true).length > 100);
    assert.ok(ours.filter((o) => o.container?.["privileged"] === true).length > 50);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("policy:check cannot be bypassed by YAML 1.1", () => {
  it("refuses host namespaces and a privileged container written as yes, on, Y and through a merge key", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-yaml-"));
    const file = path.join(dir, "pod.yaml");
    fs.writeFileSync(
      file,
      [
        "base: &base",
        "  privileged: yes",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: p, namespace: x}",
        "spec:",
        "  hostNetwork: on",
        "  hostPID: Y",
        "  containers:",
        "  - name: c",
        "    image: i",
        "    securityContext:",
        "      <<: *base",
        "",
      ].join("\n"),
    );
    const { code, stdout } = await captureConsole(() => main([file, "--level", "baseline"]));
    assert.equal(code, 1);
    assert.match(stdout, /spec\.hostNetwork is true/);
    assert.match(stdout, /spec\.hostPID is true/);
    assert.match(stdout, /securityContext\.privileged is true/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
