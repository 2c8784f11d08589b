import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { main, parsePlanArgs } from "../tools/plan";
import { captureConsole, kubernetesObjects, ofType, PROJECT_ROOT, runPlanned, runStack } from "./harness";
import { launch } from "./harness/tools";

const plan = (args: string[]) => captureConsole(() => main(args));

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("npm run plan", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-plan-"));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("prints production's resource tree and a count by type", async () => {
    const { code, stdout } = await plan(["production", "--out", tmp]);
    assert.equal(code, 0);
    const { parts, whole: run } = await runPlanned("production");
    const order = parts.map((p) => `${p.project} ${p.resources.length}`).join(", ");
    assert.equal(parts.length, 4);
    assert.match(
      stdout,
      new RegExp(
        `^Plan for stack production: ${run.resources.length} resources in 4 projects, brought up in this order: ${order}$`,
        "m",
      ),
    );
    assert.match(stdout, /^doc-rag-app \(70 resources\)$/m);
    assert.match(
      stdout,
      /^├─ doc-rag:platform:SecureNamespace {2}data\n│ {2}├─ kubernetes:core\/v1:LimitRange {2}data-limits$/m,
    );
    assert.match(stdout, /kubernetes:core\/v1:Namespace {2}data-namespace {2}\[protected, retained\]/);
    assert.match(stdout, /^ {5}7 {2}kubernetes:core\/v1:Namespace$/m);
    const policies = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").length;
    assert.ok(policies > 12);
    assert.match(stdout, new RegExp(`^ +${policies} {2}kubernetes:networking\\.k8s\\.io/v1:NetworkPolicy$`, "m"));
    assert.match(stdout, /^ {4}application: doc-rag-prod$/m);
  });

  it("writes resources.json and one manifest per Kubernetes object, every namespace but the agents' restricted", async () => {
    await plan(["production", "--out", tmp]);
    const { whole: run } = await runPlanned("production");
    const resources = JSON.parse(fs.readFileSync(path.join(tmp, "resources.json"), "utf8")) as Record<
      string,
      unknown
    >[];
    assert.equal(resources.length, run.resources.length);
    const quota = resources.find((r) => r["name"] === "application-quota")!;
    assert.deepEqual(Object.keys(quota).sort(), [
      "custom",
      "dependencies",
      "inputs",
      "name",
      "options",
      "parent",
      "provider",
      "type",
      "urn",
    ]);
    const files = listFiles(path.join(tmp, "manifests"));
    assert.equal(files.length, kubernetesObjects(run).length);
    assert.ok(files.includes("doc-rag-prod/resourcequota-doc-rag-quota.yaml"));
    const namespaces = files.filter((f) => f.startsWith("_cluster/namespace-"));
    assert.equal(namespaces.length, 7);
    for (const file of namespaces) {
      const ns = parse(fs.readFileSync(path.join(tmp, "manifests", file), "utf8"));
      const agents = ns.metadata.name === "doc-rag-prod-node-agents";
      assert.equal(
        ns.metadata.labels["pod-security.kubernetes.io/enforce"],
        agents ? "privileged" : "restricted",
        file,
      );
      if (agents)
        assert.match(ns.metadata.annotations["doc-rag.io/pod-security-exemption-reason"], /Node-level agents/);
    }
    const quotaManifest = parse(
      fs.readFileSync(path.join(tmp, "manifests/doc-rag-prod/resourcequota-doc-rag-quota.yaml"), "utf8"),
    );
    assert.equal(quotaManifest.spec.hard["limits.memory"], "330Gi");
  });

  it("runs the policy pack with the stack's policy config and writes policy-report.json", async () => {
    const { code, stdout } = await plan(["production", "--out", tmp]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^Policy pack doc-rag-security \(policies\/config\/production\.json\) on each project's stack: 29 policies, 0 mandatory and 0 advisory violations$/m,
    );
    const report = JSON.parse(fs.readFileSync(path.join(tmp, "policy-report.json"), "utf8")) as {
      pack: string;
      evaluated: string[];
      violations: unknown[];
      projects: { project: string }[];
    };
    assert.equal(report.pack, "doc-rag-security");
    assert.deepEqual(
      report.projects.map((p) => p.project),
      ["doc-rag-cluster", "doc-rag-data", "doc-rag-app", "doc-rag-governance"],
    );
    assert.equal(report.evaluated.length, 29);
    assert.deepEqual(report.violations, []);
  });

  it("fails like a policy preview when a mandatory policy is violated, and says which", async () => {
    const { code, stdout } = await plan([
      "production",
      "--out",
      tmp,
      "--config",
      "doc-rag:namespaces.security.podSecurity.enforce=baseline",
      "--config",
      "doc-rag:namespaces.security.podSecurity.reason=the scanners need a looser level for now",
    ]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /1 mandatory and 0 advisory violations\n {2}mandatory {2}namespace-pod-security {2}security-namespace: namespace doc-rag-prod-security/,
    );
    assert.ok(fs.existsSync(path.join(tmp, "policy-report.json")));
  });

  it("replaces what an earlier plan wrote in the same directory, and nothing else", async () => {
    await plan(["dev", "--out", tmp, "--config", "doc-rag:namespaces.data.name=earlier"]);
    const earlier = path.join(tmp, "manifests", "earlier", "resourcequota-doc-rag-quota.yaml");
    assert.ok(fs.existsSync(earlier));
    fs.mkdirSync(path.join(tmp, "manifests", "mine"), { recursive: true });
    fs.writeFileSync(path.join(tmp, "manifests", "mine", "keep.yaml"), "kind: Kept\n");
    await plan(["dev", "--out", tmp]);
    assert.ok(!fs.existsSync(earlier), "the earlier plan's manifest is gone");
    assert.ok(fs.existsSync(path.join(tmp, "manifests", "mine", "keep.yaml")), "a file the plan did not write stays");
  });

  it("applies --config overrides for this run only", async () => {
    const { code, stdout } = await plan(["dev", "--out", tmp, "--config", "doc-rag:namespaces.data.name=scratch"]);
    assert.equal(code, 0);
    assert.match(stdout, /^ {4}data: scratch$/m);
    assert.ok(fs.existsSync(path.join(tmp, "manifests", "scratch", "resourcequota-doc-rag-quota.yaml")));
    assert.match(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8"), /name: doc-rag-data/);
  });

  it("shows one project's stack with --project, and refuses a project that does not exist", async () => {
    const { code, stdout } = await plan(["production", "--project", "app", "--out", tmp]);
    assert.equal(code, 0);
    const app = await runStack("production", { project: "app" });
    assert.match(
      stdout,
      new RegExp(`^Plan for stack production: ${app.resources.length} resources \\(doc-rag-app\\)$`, "m"),
    );
    assert.doesNotMatch(stdout, /SecureNamespace/, "the cluster project's objects are not the app's");
    assert.match(stdout, /^ {4}api: ghcr\.io\/doc-rag\/api@sha256:/m);
    assert.throws(
      () => parsePlanArgs(["production", "--project", "web"]),
      /--project "web": must be one of cluster, data, app, governance, single/,
    );
  });

  it("prints JSON with --json", async () => {
    const { code, stdout } = await plan(["staging", "--json", "--out", tmp]);
    assert.equal(code, 0);
    const parsed = JSON.parse(stdout) as { stack: string; resources: unknown[]; outputs: Record<string, unknown> };
    assert.equal(parsed.stack, "staging");
    assert.equal(parsed.resources.length, (await runPlanned("staging")).whole.resources.length);
    assert.equal(parsed.outputs["cluster"], "shared-staging");
  });

  it("prints every config problem, writes nothing and fails", async () => {
    const out = path.join(tmp, "never");
    const { code, stderr } = await plan([
      "production",
      "--out",
      out,
      "--config",
      "doc-rag:kubernetesVersion=1.9",
      "--config",
      "doc-rag:namespaces.data.stateful=sometimes",
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /doc-rag:kubernetesVersion: .* \(got "1\.9"\)/);
    assert.match(stderr, /doc-rag:namespaces\.data\.stateful: must be true or false \(got "sometimes"\)/);
    assert.ok(!fs.existsSync(out), "a failed plan writes nothing");
  });

  it("rejects an unknown stack and bad arguments", async () => {
    const unknown = await plan(["qa", "--out", tmp]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown stack "qa".*stacks here: dev, pr, production, staging/);
    assert.throws(() => parsePlanArgs([]), /usage: npm run plan/);
    assert.throws(() => parsePlanArgs(["dev", "staging"]), /usage: npm run plan/);
    assert.equal((await plan(["--bogus"])).code, 2);
  });

  it("works as the command a user types: exit status, and all of its JSON through a pipe", async () => {
    const count = (await runPlanned("dev")).whole.resources.length;
    const ok = launch("plan", ["dev", "--json", "--out", tmp]);
    assert.equal(ok.status, 0, ok.stderr);
    // Far more than a pipe's 64 KiB buffer: the process must not exit before stdout drains.
    assert.ok(ok.stdout.length > 65_536, `${ok.stdout.length} bytes`);
    assert.equal((JSON.parse(ok.stdout) as { resources: unknown[] }).resources.length, count);
    const bad = launch("plan", ["dev", "--out", path.join(tmp, "bad"), "--config", "doc-rag:environment=prod"]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /doc-rag:environment: must be one of: dev, staging, production \(got "prod"\)/);
    assert.ok(!fs.existsSync(path.join(tmp, "bad")));
  });
});
