import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { Resource } from "@pulumi/pulumi";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { PACK_NAME, policies } from "../../policies/pack";
import {
  checkPackConfig,
  evaluatePack,
  POLICY_CONFIG_DIR,
  PolicyConfigError,
  policyTargets,
  PROJECT_ROOT,
  runResourcePolicy,
  runStack,
  settingsFor,
  stackPackConfig,
} from "../harness";
import { imageRegistry } from "../../policies/workloads";
import { pod } from "./fixtures";
import { generatedStack } from "../../tools/benchPolicies";

const POLICIES_DIR = path.join(PROJECT_ROOT, "policies");
const category = (p: (typeof policies)[number]) => p.tags?.[0];

describe("the doc-rag-security pack", () => {
  it("is a CrossGuard pack: PulumiPolicy.yaml, a versioned package.json, an index.ts that only constructs the pack", () => {
    const manifest = parse(fs.readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8")) as {
      runtime: { name: string; options: { tsconfig: string } };
      name: string;
    };
    assert.equal(manifest.runtime.name, "nodejs");
    // The CLI loads the pack transpile-only, through a tsconfig that exists and adds noCheck.
    const tsconfig = fs.readFileSync(path.join(POLICIES_DIR, manifest.runtime.options.tsconfig), "utf8");
    assert.match(tsconfig, /"noCheck": true/);
    assert.equal(manifest.name, PACK_NAME);
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8")) as {
      version: string;
      dependencies: Record<string, string>;
    };
    assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
    assert.ok(pkg.dependencies["@pulumi/policy"]);
    assert.ok(fs.existsSync(path.join(POLICIES_DIR, "package-lock.json")));
    const index = fs.readFileSync(path.join(POLICIES_DIR, "index.ts"), "utf8");
    assert.match(index, /new PolicyPack\(PACK_NAME/);
    assert.doesNotMatch(index, /validateResource|validateStack/);
  });

  it("gives every policy a unique name, a description, a default enforcement level and a category", () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of policies) {
      assert.match(p.name, /^[a-z0-9-]+$/, p.name);
      assert.notEqual(p.name, "all");
      assert.ok(p.description.length > 40, `${p.name}: description too short`);
      assert.ok(["advisory", "mandatory"].includes(p.enforcementLevel ?? ""), `${p.name}: ${p.enforcementLevel}`);
      assert.ok(["security", "operations"].includes(category(p) ?? ""), `${p.name}: ${p.tags}`);
      assert.equal(p.enforcementLevel, category(p) === "security" ? "mandatory" : "advisory");
    }
  });

  it("has config schemas whose defaults are valid (as the CLI fills them)", () => {
    for (const p of policies.filter((p) => p.configSchema)) {
      const { config } = settingsFor(p);
      assert.deepEqual(Object.keys(config).sort(), Object.keys(p.configSchema!.properties).sort(), p.name);
      assert.ok(!("enforcementLevel" in p.configSchema!.properties));
    }
  });

  it("passes the benchmark's generated stacks: they measure compliant resources", async () => {
    const targets = generatedStack(100);
    assert.equal(targets.length, 100);
    assert.deepEqual((await evaluatePack(policies, targets, {})).violations, []);
  });

  it("rejects a config value its schema does not allow, naming the policy and the property", () => {
    assert.throws(
      () => settingsFor(imageRegistry, { "image-registry": { allowedRegistries: "ghcr.io" } }),
      (err: Error) =>
        err instanceof PolicyConfigError && /image-registry: \/allowedRegistries must be array/.test(err.message),
    );
    assert.throws(
      () => settingsFor(imageRegistry, { "image-registry": { allowedRegistry: ["x"] } }),
      /must NOT have additional properties/,
    );
  });

  it("rejects a pack config that names a policy the pack does not have", () => {
    assert.throws(() => checkPackConfig(policies, { "image-registy": "mandatory" }), /unknown policies: image-registy/);
  });

  it("applies the pack config: a named policy's level beats `all`, and disabled skips", async () => {
    const bad = pod();
    (bad.props.spec as { containers: Record<string, unknown>[] }).containers[0]!.image = "nginx:1";
    const report = await evaluatePack(policies, [bad], {
      all: "advisory",
      "image-pinned": "mandatory",
      "image-registry": "disabled",
    });
    assert.ok(report.disabled.includes("image-registry"));
    assert.ok(report.violations.some((v) => v.policy === "image-pinned" && v.enforcementLevel === "mandatory"));
    assert.ok(!report.violations.some((v) => v.policy === "image-registry"));
    assert.ok(
      report.violations.filter((v) => v.policy !== "image-pinned").every((v) => v.enforcementLevel === "advisory"),
    );
  });

  it("hands policies isType/asType by Pulumi type token, like the CLI", async () => {
    const seen: boolean[] = [];
    const podClass = { __pulumiType: "kubernetes:core/v1:Pod" } as unknown as new () => Resource;
    const probe: ResourceValidationPolicy = {
      name: "probe",
      description: "records what isType and asType answer",
      validateResource: (args: ResourceValidationArgs) => {
        seen.push(args.isType(podClass), args.asType(podClass as never) === args.props);
      },
    };
    await runResourcePolicy(probe, pod());
    await runResourcePolicy(probe, { type: "kubernetes:core/v1:Service", props: {} });
    assert.deepEqual(seen, [true, true, false, false]);
  });
});

describe("stack policy configs (policies/config)", () => {
  const stacks = ["dev", "pr", "staging", "production"];

  it("ship one per stack, each valid for the pack", () => {
    assert.deepEqual(fs.readdirSync(POLICY_CONFIG_DIR).sort(), stacks.map((s) => `${s}.json`).sort());
    for (const stack of stacks) checkPackConfig(policies, stackPackConfig(stack));
  });

  const level = (stack: string, p: (typeof policies)[number]) =>
    settingsFor(p, stackPackConfig(stack)).enforcementLevel;

  it("dev: advisory, without the rules dev does not follow by design (Kubernetes Secrets, no protection)", () => {
    for (const p of policies) assert.ok(["advisory", "disabled"].includes(level("dev", p)), p.name);
    assert.deepEqual(
      policies.filter((p) => level("dev", p) === "disabled").map((p) => p.name),
      ["no-credential-secrets", "stateful-resources-protected"],
    );
  });

  it("staging: security rules mandatory, operations rules advisory", () => {
    for (const p of policies)
      assert.equal(level("staging", p), category(p) === "security" ? "mandatory" : "advisory", p.name);
  });

  it("pr (review stacks, on staging's cluster): staging's levels, less the two rules dev-shaped stacks do not follow", () => {
    const byDesign = ["no-credential-secrets", "stateful-resources-protected"];
    for (const p of policies) {
      assert.equal(level("pr", p), byDesign.includes(p.name) ? "disabled" : level("staging", p), p.name);
    }
  });

  it("production: every rule mandatory", () => {
    for (const p of policies) assert.equal(level("production", p), "mandatory", p.name);
  });

  it("allow load balancers only in the stack's gateway namespace", async () => {
    for (const stack of ["staging", "production"]) {
      const run = await runStack(stack);
      const gateway = (run.outputs.namespaces as Record<string, string>).gateway!;
      const config = stackPackConfig(stack)["service-exposure"] as { allowedNamespaces: Record<string, string> };
      assert.deepEqual(Object.keys(config.allowedNamespaces), [gateway], stack);
    }
  });
});

describe("whole stacks under their policy config", () => {
  it("dev: not even an advisory violation", async () => {
    const run = await runStack("dev");
    const report = await evaluatePack(policies, policyTargets(run), stackPackConfig("dev"));
    assert.deepEqual(
      report.violations.map((v) => `${v.policy}: ${v.message}`),
      [],
    );
  });

  it("production: data left unprotected is denied, release by release", async () => {
    const run = await runStack("production", { overrides: ["doc-rag:protectStatefulResources=false"] });
    const report = await evaluatePack(policies, policyTargets(run), stackPackConfig("production"));
    const unprotected = report.violations
      .filter((v) => v.policy === "stateful-resources-protected" && v.enforcementLevel === "mandatory")
      .map((v) => v.message.split(" ")[1]);
    assert.deepEqual(unprotected.sort(), [
      "github-repository",
      "postgres-cluster",
      "qdrant-release",
      "secrets-vault-doc-rag-auth",
      "secrets-vault-doc-rag-database",
      "secrets-vault-doc-rag-grafana",
      "secrets-vault-doc-rag-qdrant",
      "secrets-vault-doc-rag-redis",
      "secrets-vault-doc-rag-registry",
      "secrets-vault-kv",
      "valkey-release",
    ]);
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack}: no mandatory violation`, async () => {
      const run = await runStack(stack);
      const report = await evaluatePack(policies, policyTargets(run), stackPackConfig(stack));
      assert.ok(report.evaluated.length > 20);
      assert.deepEqual(
        report.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy}: ${v.message}`),
        [],
      );
    });
  }

  it("production: a namespace lowered below restricted without a policy allowlist entry is denied", async () => {
    const run = await runStack("production", {
      overrides: [
        "doc-rag:namespaces.gateway.podSecurity.enforce=baseline",
        "doc-rag:namespaces.gateway.podSecurity.reason=the gateway data plane binds a privileged port",
      ],
    });
    assert.equal(run.error, undefined);
    const report = await evaluatePack(policies, policyTargets(run), stackPackConfig("production"));
    assert.deepEqual(
      report.violations.map((v) => `${v.policy} ${v.enforcementLevel}: ${v.message}`),
      [
        'namespace-pod-security mandatory: namespace doc-rag-prod-gateway: label pod-security.kubernetes.io/enforce is "baseline"; required: "restricted" (or allowlist it with a reason)',
      ],
    );
  });

  it("production: a namespace left unprotected is caught by the stack rules", async () => {
    const run = await runStack("production");
    const targets = policyTargets(run).filter(
      (t) =>
        !(
          t.type === "kubernetes:core/v1:LimitRange" &&
          (t.props.metadata as { namespace: string }).namespace === "doc-rag-prod-data"
        ),
    );
    const report = await evaluatePack(policies, targets, stackPackConfig("production"));
    assert.deepEqual(
      report.violations.map((v) => v.message),
      ["namespace doc-rag-prod-data has no a LimitRange"],
    );
  });
});
