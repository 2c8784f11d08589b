import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main as e2e } from "../tools/e2e";
import { main as flows } from "../tools/flows";
import { main as plan } from "../tools/plan";
import { main as render } from "../tools/render";
import { captureConsole } from "./harness";
import { applyOverrides, readStackConfig, stackNameProblem } from "../lib/stackConfig";
import { PROJECT_ROOT } from "../lib/paths";

describe("stack names are validated as the Pulumi CLI validates them, never read as paths", () => {
  it("takes what the CLI takes and refuses the rest in its words", () => {
    for (const ok of ["dev", "pr", "prod.eu-1", "a_b", "x".repeat(100)])
      assert.equal(stackNameProblem(ok), undefined, ok);
    assert.equal(stackNameProblem(""), "a stack name may not be empty");
    assert.equal(stackNameProblem("x".repeat(101)), "a stack name cannot exceed 100 characters");
    assert.match(stackNameProblem("org/dev") ?? "", /invalid character "\/" at position 3$/);
    assert.match(stackNameProblem("dev stack") ?? "", /invalid character " " at position 3$/);
  });

  for (const [tool, run] of [
    ["plan", plan],
    ["render", render],
    ["flows", flows],
    ["e2e", e2e],
  ] as const) {
    it(`${tool} refuses a stack name that climbs out of the project, and writes nothing there`, async () => {
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), "stack-name-"));
      const relative = path.relative(path.join(process.cwd(), ".plan"), path.join(outside, "evil"));
      const { code, stdout, stderr } = await captureConsole(async () => {
        try {
          return await run([relative]);
        } catch (err) {
          console.error((err as Error).message);
          return 1;
        }
      });
      assert.notEqual(code, 0);
      assert.match(stdout + stderr, /a stack name may only contain alphanumeric, hyphens, underscores, or periods/);
      assert.deepEqual(fs.readdirSync(outside), []);
      fs.rmSync(outside, { recursive: true, force: true });
    });
  }
});

describe("config keys are parsed as the Pulumi CLI parses them", () => {
  it("refuses a key with more than one colon (the CLI does), on the command line and in a stack file", async () => {
    const input = readStackConfig(PROJECT_ROOT, "production");
    assert.throws(
      () => applyOverrides(input, ["doc-rag:protectStatefulResources:old=false"]),
      /config key "doc-rag:protectStatefulResources:old": must be <namespace>:<name> with one colon/,
    );
    const { code, stderr } = await captureConsole(async () => {
      try {
        return await plan(["production", "--config", "doc-rag:protectStatefulResources:old=false"]);
      } catch (err) {
        console.error((err as Error).message);
        return 1;
      }
    });
    assert.equal(code, 1);
    assert.match(stderr, /must be <namespace>:<name> with one colon/);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "config-key-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: doc-rag\nruntime: nodejs\n");
    fs.writeFileSync(path.join(root, "Pulumi.x.yaml"), "config:\n  doc-rag:a:b: 1\n");
    assert.throws(() => readStackConfig(root, "x"), /config key "doc-rag:a:b": must be <namespace>:<name>/);
    // A path below a key is still a path: --config doc-rag:namespaces.data.name=x sets one leaf.
    const set = applyOverrides(input, ["doc-rag:namespaces.data.name=x"]);
    assert.equal((JSON.parse(set.config["doc-rag:namespaces"] ?? "{}") as { data: { name: string } }).data.name, "x");
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("refuses a number that JSON cannot hold (1e309), on the command line and in a stack file, instead of reading null", () => {
    const input = readStackConfig(PROJECT_ROOT, "production");
    assert.throws(
      () => applyOverrides(input, ["doc-rag:services.api.maxReplicas=1e309"]),
      /--config value 1e309: is not a finite number; nothing was set/,
    );
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "config-number-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: doc-rag\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(root, "Pulumi.x.yaml"),
      "config:\n  doc-rag:services:\n    api:\n      maxReplicas: 1e309\n",
    );
    assert.throws(() => readStackConfig(root, "x"), /doc-rag:services: Infinity is not a finite number/);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
