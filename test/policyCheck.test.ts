import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main, manifestFiles, manifestTargets, policiesFor } from "../tools/policyCheck";
import { captureConsole, evaluatePack, PROJECT_ROOT } from "./harness";
import { podSpec } from "./policies/fixtures";

async function check(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await captureConsole(() => main(argv));
  return { code, out: stdout, err: stderr };
}

/** Kubernetes' own Pod Security Admission fixtures (../shared/oracles), used in place, never copied. */
const ORACLES = process.env.PSA_ORACLES ?? path.resolve(PROJECT_ROOT, "..", "shared", "oracles", "psa");

describe("policy checker: Kubernetes Pod Security Admission conformance", function () {
  before(function () {
    if (!fs.existsSync(ORACLES)) {
      console.warn(`    (skipped: no PSA fixtures at ${ORACLES}; set PSA_ORACLES)`);
      this.skip();
    }
  });

  for (const level of ["baseline", "restricted"] as const) {
    for (const verdict of ["pass", "fail"] as const) {
      it(`--level ${level}: ${verdict === "pass" ? "allows every pass/ file" : "denies every fail/ file"}`, async () => {
        const dir = path.join(ORACLES, level, verdict);
        const files = manifestFiles([dir]);
        assert.ok(files.length >= 15, `${dir} holds ${files.length} files`);
        const wrong: string[] = [];
        for (const file of files) {
          const report = await evaluatePack(policiesFor(level), manifestTargets(file));
          if (report.mandatory > 0 !== (verdict === "fail"))
            wrong.push(`${path.basename(file)}: ${report.violations.map((v) => v.message).join("; ") || "allowed"}`);
        }
        assert.deepEqual(wrong, []);
      });
    }
  }

  it("the command line exits 1 on the fail/ folder and 0 on the pass/ folder", async () => {
    assert.equal((await check(path.join(ORACLES, "restricted", "fail"), "--level", "restricted")).code, 1);
    const pass = await check(path.join(ORACLES, "restricted", "pass"), "--level", "restricted");
    assert.equal(pass.code, 0, pass.out);
    assert.match(pass.out, /23 objects in 23 files, level restricted: 0 mandatory/);
  });
});

describe("policy checker: plain manifests", () => {
  let dir: string;
  const deployment = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "doc-rag" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec },
    },
  });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
    const good = deployment("good", podSpec());
    const bad = deployment("bad", { ...podSpec(), hostNetwork: true });
    fs.writeFileSync(
      path.join(dir, "multi.yaml"),
      [good, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "doc-rag" } }, bad]
        .map((d) => stringify(d))
        .join("---\n"),
    );
    fs.mkdirSync(path.join(dir, "nested"));
    fs.writeFileSync(
      path.join(dir, "nested", "list.yml"),
      stringify({ apiVersion: "v1", kind: "List", items: [good] }),
    );
    fs.writeFileSync(path.join(dir, "notes.txt"), "not a manifest");
  });

  it("reads multi-document files, Lists and folders recursively, giving each object its Pulumi type token", () => {
    const targets = manifestFiles([dir]).flatMap(manifestTargets);
    assert.deepEqual(
      targets.map((t) => `${path.relative(dir, t.file)} ${t.type} ${t.name}`),
      [
        "multi.yaml kubernetes:apps/v1:Deployment good",
        "multi.yaml kubernetes:core/v1:ConfigMap c",
        "multi.yaml kubernetes:apps/v1:Deployment bad",
        "nested/list.yml kubernetes:apps/v1:Deployment good",
      ],
    );
  });

  it("prints file, object, policy and message for each violation and exits 1 on a mandatory one", async () => {
    const { code, out } = await check(dir);
    assert.equal(code, 1);
    assert.match(
      out,
      /multi\.yaml: Deployment\/bad: pod-security-baseline \(mandatory\): \[Host namespaces\] pod: spec\.template\.spec\.hostNetwork is true/,
    );
    assert.doesNotMatch(out, /Deployment\/good/);
    assert.match(out, /4 objects in 2 files, level all: 1 mandatory, 0 advisory violations/);
  });

  it("--json prints the same findings as data", async () => {
    const { code, out } = await check(dir, "--json");
    assert.equal(code, 1);
    const report = JSON.parse(out) as {
      objects: number;
      mandatory: number;
      violations: { file: string; object: string; policy: string }[];
    };
    assert.equal(report.objects, 4);
    assert.deepEqual(
      report.violations.map((v) => [path.basename(v.file), v.object, v.policy]),
      [["multi.yaml", "Deployment/bad", "pod-security-baseline"]],
    );
  });

  it("--config lowers enforcement like --policy-pack-config, and then exits 0", async () => {
    const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pack-config-")), "config.json");
    fs.writeFileSync(config, JSON.stringify({ "pod-security-baseline": "advisory" }));
    const { code, out } = await check(dir, "--config", config);
    assert.equal(code, 0);
    assert.match(out, /0 mandatory, 1 advisory/);
  });

  it("--level restricted runs only the Pod Security controls", async () => {
    const unpinned = deployment("unpinned", {
      ...podSpec(),
      containers: [{ ...(podSpec().containers as object[])[0], image: "nginx:latest" }],
    });
    fs.writeFileSync(path.join(dir, "unpinned.yaml"), stringify(unpinned));
    assert.equal((await check(path.join(dir, "unpinned.yaml"), "--level", "restricted")).code, 0);
    assert.equal((await check(path.join(dir, "unpinned.yaml"))).code, 1);
  });

  const usage: [string, string[], RegExp][] = [
    ["no path", [], /usage: npm run policy:check/],
    ["an unknown level", ["x", "--level", "strict"], /--level strict: allowed: baseline, restricted, all/],
    ["a missing path", ["/nonexistent/manifests"], /no such file or directory/],
  ];
  for (const [title, argv, message] of usage) {
    it(`exits 2 on ${title}`, async () => {
      const { code, err } = await check(...argv);
      assert.equal(code, 2);
      assert.match(err, message);
    });
  }

  it("exits 2 on YAML that does not parse, an object without kind, or a config for an unknown policy", async () => {
    fs.writeFileSync(path.join(dir, "broken.yaml"), "a: [1,\n");
    assert.match((await check(path.join(dir, "broken.yaml"))).err, /broken\.yaml/);
    fs.writeFileSync(path.join(dir, "nokind.yaml"), "apiVersion: v1\nmetadata: {name: x}\n");
    assert.match(
      (await check(path.join(dir, "nokind.yaml"))).err,
      /nokind\.yaml: document 1: has no apiVersion or kind/,
    );
    const config = path.join(dir, "config.json");
    fs.writeFileSync(config, JSON.stringify({ "pod-security-baselin": "advisory" }));
    const result = await check(path.join(dir, "multi.yaml"), "--config", config);
    assert.equal(result.code, 2);
    assert.match(result.err, /unknown policies: pod-security-baselin/);
  });
});
