import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { isDeepStrictEqual } from "node:util";
import { DEPLOYERS } from "../components/environment/deployers";
import { LAYERS, PROJECTS } from "../components/environment/projects";
import { placeless } from "../lib/migration";
import { DOC_RAG_SERVICES } from "../components/services";
import { buildModel } from "../tools/flows/model";
import { analyzeFlows, modelConfigFor } from "../tools/flows/report";
import { programObjects } from "../tools/render";
import { quotaFit } from "../tools/renderChecks";
import {
  environmentLayers,
  PROJECT_ROOT,
  runPlanned,
  kubernetesObjects,
  runEnvironment,
  runStack,
  type EnvironmentRun,
  type RecordedResource,
  type StackRun,
} from "./harness";

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

const byPlace = (resources: readonly RecordedResource[]) => new Map(resources.map((r) => [placeless(r.urn), r]));
/**
 * What the engine would change: inputs and options, without the dependencies (they cross stacks), the
 * project in an alias's parent URN, and the alias that adopts a moved child (`parent:none`, migration only).
 */
const state = (r: RecordedResource) => ({
  inputs: r.inputs,
  options: {
    ...r.options,
    dependsOn: [],
    aliases: r.options.aliases
      .filter((a) => a !== "parent:none")
      .map((a) => a.replace(/(urn:pulumi:[^:]+::)[^:]+::/g, "$1")),
  },
});

function differences(a: readonly RecordedResource[], b: readonly RecordedResource[]) {
  const left = byPlace(a);
  const right = byPlace(b);
  return {
    onlyLeft: [...left.keys()].filter((k) => !right.has(k)),
    onlyRight: [...right.keys()].filter((k) => !left.has(k)),
    changed: [...left.keys()].filter(
      (k) => right.has(k) && !isDeepStrictEqual(state(left.get(k)!), state(right.get(k)!)),
    ),
  };
}

function ok(run: StackRun | EnvironmentRun): void {
  assert.equal(run.error, undefined, run.error?.message);
}

describe("stacks by lifecycle: the four projects of an environment", () => {
  for (const stack of ["dev", "staging", "production"]) {
    it(`${stack}: together they hold the single stack's objects, and besides only the split's own plumbing`, async () => {
      const single = await runStack(stack);
      const layered = await runEnvironment(stack);
      ok(single);
      ok(layered);
      const { onlyLeft, onlyRight, changed } = differences(single.resources, layered.resources);
      assert.deepEqual(onlyLeft, [], "every object of the single stack is in one of the projects");
      // The references, and the deploy identities the cluster project makes for the data and app projects.
      const plumbing = onlyRight.map((urn) => urn.replace(/^urn:pulumi:[^:]+::[^:]+::(pulumi:pulumi:Stack\$)?/, ""));
      assert.deepEqual(
        plumbing.filter((urn) => !urn.includes(`${STACK_REFERENCE}::`) && !/-deployer$/.test(urn)),
        [],
      );
      assert.deepEqual(
        plumbing.filter((urn) => /-deployer$/.test(urn)).sort(),
        ["kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:Role"]
          .flatMap((type) => ["app", "data"].map((layer) => `${type}::${layer}-deployer`))
          .concat(["app", "data"].map((l) => `kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::${l}-deployer`))
          .sort(),
      );
      // The one value that differs: the project a release deploys is the app project's now.
      const variable = (run: { resources: readonly RecordedResource[] }) =>
        run.resources.find((r) => r.name === "github-variable-pulumi_project")?.inputs["value"];
      assert.deepEqual(
        changed.map((urn) => urn.replace(/^.*::/, "")),
        variable(single) ? ["github-variable-pulumi_project"] : [],
      );
      if (variable(single)) assert.deepEqual([variable(single), variable(layered)], ["doc-rag", PROJECTS.app]);
      // The flows check and the quota fit see the same environment (the program's own objects).
      const judged = (run: StackRun) => {
        const placed = programObjects(run);
        const chartNamespaces = run.resources
          .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
          .map((r) => String(r.inputs["namespace"]));
        const flows = analyzeFlows(buildModel(placed, modelConfigFor(PROJECT_ROOT, stack), { chartNamespaces }));
        const quotas = quotaFit(
          placed.map((p) => p.object),
          placed,
        );
        return { flows: [flows.required, flows.problems, flows.unexplained], quotas: quotas.findings };
      };
      const whole = (await runPlanned(stack)).whole;
      assert.deepEqual(judged(whole), judged(single));
      // Without a governance stack (dev) there is no requiredChecks output, where the single stack's is empty.
      for (const [name, value] of Object.entries(single.outputs)) {
        if (name === "requiredChecks" && !layered.layers.governance) assert.deepEqual(value, []);
        else assert.deepEqual(layered.outputs[name], value, `output ${name}`);
      }
    });
  }

  it("has a stack per layer where the environment has the layer: no governance in dev, none for a review stack", async () => {
    assert.deepEqual(environmentLayers("production"), [...LAYERS]);
    assert.deepEqual(environmentLayers("dev"), ["cluster", "data", "app"]);
    assert.deepEqual(environmentLayers("pr"), []);
    const review = await runStack("pr", { project: "app" });
    assert.match(
      review.error?.message ?? "",
      /stack pr is not a stack of doc-rag-app: a review stack runs every layer in one stack of the single-stack project/,
    );
    assert.deepEqual(review.resources, [], "refused before anything is registered");
    const governance = await runStack("dev", { project: "governance" });
    assert.match(
      governance.error?.message ?? "",
      /stack dev is not a stack of doc-rag-governance: dev has no governance/,
    );
  });

  it("previews a release (new digests) as changes to the app project's stack only", async () => {
    const images = Object.fromEntries(DOC_RAG_SERVICES.map((s, i) => [s, `sha256:${(i + 1).toString(16).repeat(64)}`]));
    const release = JSON.stringify({ version: "v2.0.0", images });
    const before = await runEnvironment("production");
    const after = await runEnvironment("production", { overrides: [`doc-rag:release=${release}`] });
    ok(before);
    ok(after);
    const changedLayers = LAYERS.filter((layer) => {
      const { onlyLeft, onlyRight, changed } = differences(
        before.layers[layer]!.resources,
        after.layers[layer]!.resources,
      );
      return onlyLeft.length + onlyRight.length + changed.length > 0;
    });
    assert.deepEqual(changedLayers, ["app"]);
    const { changed } = differences(before.layers.app!.resources, after.layers.app!.resources);
    assert.deepEqual(
      changed.map((urn) => urn.replace(/^.*::/, "")).sort(),
      DOC_RAG_SERVICES.map((s) => `service-${s}-rollout`).sort(),
    );
  });
});

describe("stacks by lifecycle: the projects as the CLI reads them", () => {
  for (const layer of LAYERS) {
    it(`projects/${layer}: its own name, its own entry point, the environment's one stack file`, () => {
      const project = parse(
        fs.readFileSync(path.join(PROJECT_ROOT, "projects", layer, "Pulumi.yaml"), "utf8"),
      ) as Record<string, unknown>;
      assert.equal(project["name"], PROJECTS[layer]);
      // Without `main` the Node SDK runs the nearest package.json's main: the root's single-stack program.
      assert.equal(project["main"], "index.ts");
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "projects", layer, "index.ts")));
      assert.equal(project["stackConfigDir"], "../..");
    });
  }
});

describe("stacks by lifecycle: what crosses between them", () => {
  const platform = async () =>
    (await runStack("production", { project: "cluster" })).outputs["platform"] as Record<string, unknown>;

  it("stops a layer whose lower stack has no contract output, naming the stack, the output and what to run first", async () => {
    const run = await runStack("production", {
      project: "data",
      referencedOutputs: { cluster: { environment: "production" } },
    });
    assert.equal(
      run.error?.message,
      'stack doc-rag/doc-rag-cluster/production has no output "platform": bring up projects/cluster for this stack first (npm run up -- production --project cluster)',
    );
    assert.deepEqual(
      run.resources.map((r) => r.type),
      [STACK_REFERENCE],
      "only the read of the other stack; nothing is created",
    );
  });

  it("refuses a contract of the wrong shape, naming the path in it", async () => {
    const { namespaces, ...rest } = await platform();
    const partial = Object.fromEntries(
      Object.entries(namespaces as Record<string, string>).filter(([role]) => role !== "gateway"),
    );
    const run = await runStack("production", {
      project: "app",
      referencedOutputs: { cluster: { platform: { ...rest, namespaces: partial } } },
    });
    assert.match(
      run.error?.message ?? "",
      /output "platform" is not what this program reads \(platform\.namespaces\.gateway: /,
    );
    assert.deepEqual(new Set(run.resources.map((r) => r.type)), new Set([STACK_REFERENCE]));
  });

  it("refuses a cluster stack brought up with other namespaces than this config's", async () => {
    const contract = await platform();
    const namespaces = { ...(contract["namespaces"] as Record<string, string>), data: "elsewhere" };
    const run = await runStack("production", {
      project: "data",
      referencedOutputs: { cluster: { platform: { ...contract, namespaces } } },
    });
    assert.match(
      run.error?.message ?? "",
      /the cluster stack's namespaces differ from doc-rag:namespaces \(data: elsewhere there, doc-rag-prod-data here\)/,
    );
  });
});

/** Which (group, resource) a Role's rules allow `verb` on. */
function allows(
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
  group: string,
  resource: string,
  verb: string,
) {
  return rules.some(
    (rule) =>
      (rule.apiGroups.includes(group) || rule.apiGroups.includes("*")) &&
      (rule.resources.includes(resource) || rule.resources.includes("*")) &&
      (rule.verbs.includes(verb) || rule.verbs.includes("*")),
  );
}

/** The resource (plural) of a kind, as the API server names it. */
const plural = (kind: string) => {
  const lower = kind.toLowerCase();
  return lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
};

describe("stacks by lifecycle: each project deploys with only what it changes", () => {
  for (const [stack, layer] of ["dev", "staging", "production"].flatMap((s) =>
    (["app", "data"] as const).map((l) => [s, l] as const),
  )) {
    it(`${stack}: the ${layer} project's identity may change every object it creates, in its own namespace, and nothing cluster-wide`, async () => {
      const cluster = await runStack(stack, { project: "cluster" });
      const own = await runStack(stack, { project: layer });
      ok(cluster);
      ok(own);
      const deployer = DEPLOYERS[layer]!;
      const objects = kubernetesObjects(cluster).map((o) => o.object);
      const bindings = objects.filter(
        (o) =>
          (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
          (o as { subjects?: { name: string }[] }).subjects?.some((s) => s.name === deployer.serviceAccount),
      );
      assert.deepEqual(
        bindings.map((b) => b.kind),
        ["RoleBinding"],
        "one namespaced binding; no ClusterRoleBinding names the identity",
      );
      const namespace = bindings[0]!.metadata.namespace!;
      const role = objects.find(
        (o) => o.kind === "Role" && o.metadata.name === deployer.serviceAccount && o.metadata.namespace === namespace,
      );
      const rules = (role as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] })
        .rules;
      // Cluster-scoped kinds are out of a Role's reach; the rules do not even name them.
      for (const [group, resource] of [
        ["apiextensions.k8s.io", "customresourcedefinitions"],
        ["rbac.authorization.k8s.io", "clusterroles"],
        ["rbac.authorization.k8s.io", "clusterrolebindings"],
        ["rbac.authorization.k8s.io", "roles"],
        ["", "namespaces"],
      ] as const) {
        assert.ok(!allows(rules, group, resource, "create"), `${group}/${resource}`);
      }
      // Every object the project creates is in that namespace, of a kind the Role manages.
      for (const { object } of kubernetesObjects(own)) {
        const [group, version] = object.apiVersion.includes("/")
          ? object.apiVersion.split("/")
          : ["", object.apiVersion];
        assert.ok(version);
        const what = `${object.kind} ${object.metadata.name}`;
        assert.equal(object.metadata.namespace, namespace, what);
        for (const verb of ["create", "patch", "delete"])
          assert.ok(allows(rules, group!, plural(object.kind), verb), `${verb} ${what}`);
      }
      // A Helm release records itself in Secrets of its namespace.
      const releases = own.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
      if (releases.length) assert.ok(allows(rules, "", "secrets", "create"));
      for (const release of releases) assert.equal(release.inputs["namespace"], namespace, release.name);
    });
  }
});
