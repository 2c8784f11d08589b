/**
 * npm run e2e -- <stack> [--charts DIR] [--self-check] [--keep]
 *
 * The fourth gate: the program under the real Pulumi CLI and engine against a real kube-apiserver
 * on 127.0.0.1 (built from Go modules and cached by version; see tools/e2e/engine.ts). Per stack:
 * each of its projects in order (the data and app projects as their own ServiceAccounts), or one
 * single stack for a review stack: `pulumi preview` with the policy pack, `pulumi up`, the pods of every workload the program creates
 * admitted (PodSecurity, ResourceQuota, LimitRanger) and Ready under kwok, a second preview that must
 * show no change, and for dev and pr a `pulumi destroy` that must leave nothing behind but what
 * `retainOnDelete` keeps. Writes .e2e/<stack>/e2e-report.json and the run's log; exits 1 on any failure.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../lib/paths";
import { readStackConfig, stackNameProblem } from "../lib/stackConfig";
import { planStackMove } from "./migrate";
import { environmentLayers } from "../lib/run";
import { DEPLOYERS, type DeployerIdentity } from "../components/environment/deployers";
import { PROJECTS, SINGLE_STACK_PROJECT, type Layer } from "../components/environment/projects";
import { SHARED_COMPONENT_URN_TAIL } from "../components/environment/shared";
import { startCluster, type Cluster } from "./e2e/cluster";
import { ENGINE_SUBSTITUTES, ENGINE_VERSIONS, ensureEngine, NO_CREDENTIALS } from "./e2e/engine";
import { changes, created, planned, policyFindings, pulumiCli, refusals, type PulumiCli } from "./e2e/pulumi";
import { selfCheck } from "./e2e/selfCheck";
import { standInForRollouts, waitForPods, type WorkloadPods } from "./e2e/workloads";
import { copyProject, crdOnlyCharts, pinnedCrdFiles, prepareStackFile, trustChartsDir } from "./e2e/workspace";

const USAGE = `usage: npm run e2e -- <stack> [--keep] [--charts DIR] [--self-check]
  <stack>       dev, pr, staging or production (a Pulumi.<stack>.yaml of this project)
  --charts DIR  install every Helm release from this chart directory (npm run charts:pull fills it);
                without it, each release installs a stand-in chart holding only its pinned CRDs
  --self-check  after up, send deliberately broken copies (quota, Pod Security, CRD schema) and
                fail unless the lane catches each
  --migration   first bring the stack up as one stack of the single-stack project (as before the split),
                move it into the project stacks with the commands npm run migrate plans (pulumi state
                move), and fail unless every project's preview then creates only what the split adds
  --keep        leave the loopback cluster running and print how to reach it`;

const WORKLOAD_TYPES: Record<string, string> = {
  "kubernetes:apps/v1:Deployment": "Deployment",
  "kubernetes:apps/v1:StatefulSet": "StatefulSet",
  "kubernetes:apps/v1:DaemonSet": "DaemonSet",
  "kubernetes:argoproj.io/v1alpha1:Rollout": "Rollout",
};

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  retainOnDelete?: boolean;
  /** Read, not created (`.get`): the stack never owned it. */
  external?: boolean;
  outputs?: { metadata?: { name?: string; namespace?: string }; apiVersion?: string; kind?: string };
}

/** One project of the environment as the lane runs it: where, and as whom (a deployer's kubeconfig). */
interface Unit {
  name: string;
  layer?: Layer;
  cwd: string;
  kubeconfig?: string;
}

async function stateResources(pulumi: PulumiCli, stack: string, unit: Unit): Promise<StateResource[]> {
  const exported = await pulumi.run(["stack", "export", "-s", stack], undefined, unit);
  if (exported.code !== 0) throw new Error(`pulumi stack export failed:\n${exported.output}`);
  const json = exported.output.slice(exported.output.indexOf("{"));
  return (JSON.parse(json) as { deployment: { resources?: StateResource[] } }).deployment.resources ?? [];
}

async function stackOutput<T>(pulumi: PulumiCli, stack: string, unit: Unit, name: string): Promise<T> {
  const got = await pulumi.run(["stack", "output", name, "--json", "--show-secrets", "-s", stack], undefined, unit);
  if (got.code !== 0) throw new Error(`pulumi stack output ${name} in ${unit.name} failed:\n${got.output}`);
  return JSON.parse(got.output.slice(got.output.search(/[[{"]/))) as T;
}

/** What the API server lets a deployer do: `kubectl auth can-i` against the real RBAC. */
interface Access {
  project: string;
  verb: string;
  resource: string;
  namespace?: string;
  allowed: boolean;
  expected: boolean;
}

async function deployerAccess(cluster: Cluster, project: string, deployer: DeployerIdentity): Promise<Access[]> {
  const as = `system:serviceaccount:${deployer.namespace}:${deployer.serviceAccount}`;
  const questions: Omit<Access, "allowed" | "project">[] = [
    { verb: "create", resource: "customresourcedefinitions.apiextensions.k8s.io", expected: false },
    { verb: "create", resource: "clusterroles.rbac.authorization.k8s.io", expected: false },
    { verb: "create", resource: "namespaces", expected: false },
    { verb: "create", resource: "roles.rbac.authorization.k8s.io", namespace: deployer.writes, expected: false },
    { verb: "create", resource: "networkpolicies.networking.k8s.io", namespace: deployer.writes, expected: true },
    { verb: "create", resource: "networkpolicies.networking.k8s.io", namespace: deployer.namespace, expected: false },
  ];
  const answers: Access[] = [];
  for (const q of questions) {
    const asked = await cluster.kubectl(
      ["auth", "can-i", q.verb, q.resource, "--as", as, ...(q.namespace ? ["-n", q.namespace] : [])],
      undefined,
      true,
    );
    answers.push({ project, ...q, allowed: asked.stdout.trim() === "yes" });
  }
  return answers;
}

/**
 * What a project's first preview after the move may change: create the split's own components and
 * identities and the provider of its stack references, and give its Kubernetes provider the
 * project's own kubeconfig (the data and app projects deploy as their ServiceAccounts).
 */
const SPLIT_ADDS = new RegExp(
  [
    `^create urn:pulumi:[^:]+::[^:]+::(${SHARED_COMPONENT_URN_TAIL}|pulumi:providers:pulumi::default|` +
      "kubernetes:(core/v1:ServiceAccount|rbac\\.authorization\\.k8s\\.io/v1:Role|rbac\\.authorization\\.k8s\\.io/v1:RoleBinding)::(app|data)-deployer)$",
    "^update urn:pulumi:[^:]+::[^:]+::pulumi:providers:kubernetes::kubernetes \\(kubeconfig\\)$",
  ].join("|"),
);

/**
 * The move of a stack made before the split, for real: the single-stack program brought up, its
 * state exported, and the `pulumi state move` commands `npm run migrate` plans run into the
 * project stacks (each created first, from its folder).
 */
async function migrate(
  stack: string,
  project: string,
  work: string,
  units: Unit[],
  initialise: (unit: Unit) => Promise<void>,
  step: (unit: Unit, name: string, args: string[]) => Promise<{ code: number; output: string }>,
  pulumi: PulumiCli,
  failures: string[],
): Promise<Record<string, unknown>> {
  const single: Unit = { name: SINGLE_STACK_PROJECT, cwd: project };
  await initialise(single);
  const up = await step(single, "single-up", ["up", "--yes", "--skip-preview"]);
  if (up.code !== 0) failures.push(`the single stack's up failed (exit ${up.code}): ${tail(up.output)}`);
  const file = path.join(work, "single-stack.json");
  const exported = await pulumi.run(["stack", "export", "-s", stack, "--file", file], undefined, single);
  if (exported.code !== 0) throw new Error(`pulumi stack export failed:\n${exported.output}`);
  const plan = await planStackMove(stack, file);
  if (plan.unplaced.length) failures.push(`npm run migrate would leave behind: ${plan.unplaced.join(", ")}`);
  const source = `organization/${SINGLE_STACK_PROJECT}/${stack}`;
  for (const { layer, project: name, urns } of plan.moves) {
    const unit = units.find((u) => u.layer === layer);
    if (!unit || !urns.length) continue;
    await initialise(unit);
    const dest = `organization/${name}/${stack}`;
    const moved = await pulumi.run(
      ["state", "move", "--source", source, "--dest", dest, "--yes", ...urns],
      undefined,
      unit,
    );
    if (moved.code !== 0)
      failures.push(`pulumi state move into ${dest} failed (exit ${moved.code}): ${tail(moved.output)}`);
  }
  return {
    moved: Object.fromEntries(plan.moves.map((m) => [m.project, m.urns.length])),
    sharedComponents: plan.sharedComponents,
  };
}

/** kubectl's name for a state resource's object (`configmap.v1.`, `deployment.v1.apps/x`), if it is one. */
function objectRef(r: StateResource): { ref: string; namespace?: string } | undefined {
  const { apiVersion, kind, metadata } = r.outputs ?? {};
  if (!r.type.startsWith("kubernetes:") || !apiVersion || !kind || !metadata?.name) return undefined;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return {
    ref: `${kind.toLowerCase()}.${version}.${group}/${metadata.name}`,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
  };
}

/** Objects of the state that still exist in the cluster: one kubectl call per namespace, not per object. */
async function leftBehind(cluster: Cluster, resources: StateResource[]): Promise<string[]> {
  const byNamespace = new Map<string, string[]>();
  for (const r of resources) {
    const o = objectRef(r);
    if (o) byNamespace.set(o.namespace ?? "", [...(byNamespace.get(o.namespace ?? "") ?? []), o.ref]);
  }
  const left: string[] = [];
  const found = async (namespace: string, refs: string[]) => {
    const got = await cluster.kubectl([
      "get",
      ...refs,
      ...(namespace ? ["-n", namespace] : []),
      "--ignore-not-found",
      "-o",
      "name",
    ]);
    return got.code === 0 ? got.stdout.split("\n").filter(Boolean) : undefined;
  };
  for (const [namespace, refs] of byNamespace) {
    // One call per namespace; if it fails (a type the cluster no longer serves), one call per object,
    // where a failure means the object is gone.
    const names =
      (await found(namespace, refs)) ??
      (await Promise.all(refs.map((r) => found(namespace, [r])))).flatMap((n) => n ?? []);
    left.push(...names.map((name) => (namespace ? `${namespace}/${name}` : name)));
  }
  return left;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      keep: { type: "boolean" },
      charts: { type: "string" },
      "self-check": { type: "boolean" },
      migration: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [stack, ...extra] = positionals;
  const problem =
    stack === undefined || extra.length > 0
      ? "one stack is required"
      : (stackNameProblem(stack) ??
        (fs.existsSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`)) ? undefined : `no Pulumi.${stack}.yaml here`));
  if (stack === undefined || problem) {
    console.error(`${problem}\n${USAGE}`);
    return 2;
  }
  const out = path.join(PROJECT_ROOT, ".e2e", stack);
  fs.mkdirSync(out, { recursive: true });
  const log = path.join(out, "e2e.log");
  fs.writeFileSync(log, "");
  const say = (line: string) => console.log(`e2e ${stack}: ${line}`);
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `doc-rag-e2e-${stack}-`));
  const failures: string[] = [];
  const report: Record<string, unknown> = {
    stack,
    startedAt: new Date(started).toISOString(),
    engine: ENGINE_VERSIONS,
  };

  const engine = await ensureEngine(path.join(out, "engine-build.log"), say);
  const project = await copyProject(work, log);
  const chartsDir = values.charts ? path.resolve(values.charts) : crdOnlyCharts(path.join(work, "charts"));
  const prepared = prepareStackFile(project, stack, chartsDir);
  const configChanges = [...prepared.changes, trustChartsDir(project, stack, chartsDir)];
  const stackConfig = readStackConfig(project, stack).config;
  const review = stackConfig["doc-rag:review"] !== undefined;
  const context = stackConfig["doc-rag:kubeContext"];
  report["substitutes"] = [
    ...ENGINE_SUBSTITUTES,
    values.charts
      ? `Helm charts: installed from ${chartsDir}`
      : "Helm charts: no chart directory; each release installs a stand-in chart holding only its pinned chart's CRDs (../shared/charts), so the charts' own workloads do not run",
    "Argo Rollouts controller: the lane creates each Rollout's first ReplicaSet as the controller would",
  ];
  report["configChanges"] = configChanges;
  say(
    values.charts
      ? `Helm releases install from ${chartsDir}`
      : "no chart directory: Helm releases install CRD-only stand-in charts (their workloads do not run)",
  );
  // Named up front, so no one mistakes this run for one of the upstream binaries or services.
  for (const substitute of ENGINE_SUBSTITUTES) say(`substitute: ${substitute}`);
  for (const change of configChanges) say(`in the project copy: ${change}`);

  const clusterStarted = Date.now();
  const cluster = await startCluster(engine, path.join(work, "cluster"), context ? [context] : [], log);
  const clusterSeconds = Math.round((Date.now() - clusterStarted) / 100) / 10;
  say(`loopback cluster up (kube-apiserver ${ENGINE_VERSIONS.kubernetes}, kwok nodes)`);
  // An interrupted run still stops exactly the processes it started.
  const interrupted = (signal: NodeJS.Signals) => {
    void cluster.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const pulumi = pulumiCli(engine, project, work, cluster.kubeconfig, log);
  const seconds: Record<string, number> = { cluster: clusterSeconds };
  report["seconds"] = seconds;
  const step = async (unit: Unit, name: string, args: string[]) => {
    const t = Date.now();
    const key = units.length > 1 ? `${unit.name}.${name}` : name;
    const result = await pulumi.run([...args, "-s", stack], path.join(out, `${key}.events.json`), unit);
    seconds[key] = Math.round((Date.now() - t) / 100) / 10;
    say(`${key}: exit ${result.code} in ${Math.round(seconds[key])} s`);
    return result;
  };
  const layers = environmentLayers(stack, { root: project });
  const units: Unit[] = layers.length
    ? layers.map((layer) => ({ name: PROJECTS[layer], layer, cwd: path.join(project, "projects", layer) }))
    : [{ name: SINGLE_STACK_PROJECT, cwd: project }];
  let deployers: Partial<Record<Layer, DeployerIdentity>> = {};
  const access: Access[] = [];
  try {
    if (review) {
      // A review stack uses the CRDs its owner's releases installed: apply the pinned ones first.
      const files = pinnedCrdFiles();
      const applied = await cluster.kubectl(["apply", "--server-side", ...files.flatMap((f) => ["-f", f])]);
      if (applied.code !== 0) failures.push(`the pinned CRDs were refused: ${applied.stderr.trim()}`);
      await cluster.kubectl(["wait", "--for", "condition=established", "crd", "--all", "--timeout=60s"]);
    }
    // Each project of the environment in bring-up order (a review stack: the single-stack project).
    // The data and app projects deploy as the identities the cluster project made for them.
    const policyConfig = path.join(project, "policies", "config", `${stack}.json`);
    const policyFindingsAll: ReturnType<typeof policyFindings> = [];
    const previewErrors: ReturnType<typeof refusals> = [];
    const made: ReturnType<typeof created> = [];
    const refused: ReturnType<typeof refusals> = [];
    const planUrns: string[] = [];
    const initialised = new Set<string>();
    const initialise = async (unit: Unit) => {
      if (initialised.has(unit.name)) return;
      const init = await pulumi.run(["stack", "init", stack], undefined, unit);
      if (init.code !== 0) throw new Error(`pulumi stack init ${stack} in ${unit.name} failed:\n${init.output}`);
      initialised.add(unit.name);
      for (const [key, value] of prepared.secrets) {
        const set = await pulumi.run(["config", "set", "--secret", key, value, "-s", stack], undefined, unit);
        if (set.code !== 0) throw new Error(`pulumi config set --secret ${key} failed:\n${set.output}`);
      }
    };
    if (values.migration && layers.length) {
      report["migration"] = await migrate(stack, project, work, units, initialise, step, pulumi, failures);
    }
    for (const unit of units) {
      await initialise(unit);
      if (unit.layer && DEPLOYERS[unit.layer]) {
        const deployer = deployers[unit.layer];
        if (!deployer) throw new Error(`the cluster stack made no deployer for ${unit.name}`);
        unit.kubeconfig = await cluster.kubeconfigAs(deployer.namespace, deployer.serviceAccount);
        access.push(...(await deployerAccess(cluster, unit.name, deployer)));
        say(`${unit.name} deploys as ${deployer.namespace}/${deployer.serviceAccount} (a token the API server issued)`);
      }
      const preview = await step(unit, "preview", [
        "preview",
        "--policy-pack",
        path.join(project, "policies"),
        "--policy-pack-config",
        policyConfig,
      ]);
      policyFindingsAll.push(...policyFindings(preview.events));
      previewErrors.push(...refusals(preview.events));
      planUrns.push(...planned(preview.events));
      if (values.migration) {
        // After the move, a project's preview creates only what the split adds, and replaces or deletes nothing.
        const moved = changes(preview.events).filter((c) => !SPLIT_ADDS.test(c));
        (report["migrationPreview"] ??= []) as string[];
        (report["migrationPreview"] as string[]).push(...moved);
        if (moved.length) failures.push(`${unit.name}: after the move, its preview changes ${moved.join("; ")}`);
      }
      if (preview.code !== 0)
        failures.push(
          `${unit.name}: preview with the policy pack failed (exit ${preview.code}): ${tail(preview.output)}`,
        );

      const rollouts = standInForRollouts(cluster);
      const up = await step(unit, "up", ["up", "--yes", "--skip-preview", "--continue-on-error"]);
      await rollouts.stop();
      made.push(...created(up.events));
      const unitRefused = refusals(up.events);
      refused.push(...unitRefused);
      if (up.code !== 0)
        failures.push(
          `${unit.name}: up failed (exit ${up.code}); refused: ${unitRefused.map((r) => `${r.urn}: ${r.message}`).join("; ")}`,
        );
      if (unit.layer === "cluster") deployers = await stackOutput(pulumi, stack, unit, "deployers");
    }
    report["projects"] = units.map((u) => u.name);
    report["preview"] = { policyFindings: policyFindingsAll, errors: previewErrors };
    report["up"] = { created: made.length, createdByType: countBy(made.map((m) => m.type)), refused };
    report["deployerAccess"] = access;
    for (const a of access.filter((a) => a.allowed !== a.expected))
      failures.push(
        `${a.project}'s identity ${a.allowed ? "may" : "may not"} ${a.verb} ${a.resource}${a.namespace ? ` in ${a.namespace}` : ""}`,
      );

    const state = (await Promise.all(units.map((unit) => stateResources(pulumi, stack, unit)))).flat();
    const inState = new Set(state.map((r) => r.urn));
    report["notCreated"] = planUrns.filter((urn) => !inState.has(urn));
    // Recorded by the no-credentials stand-in: in the state, never sent to Vault, GitHub or Pulumi Cloud.
    report["recordedOnly"] = state
      .filter((r) => r.custom && NO_CREDENTIALS[r.type.split(":")[0] ?? ""] !== undefined)
      .map((r) => r.urn);
    const workloads = state
      .filter((r) => WORKLOAD_TYPES[r.type] && r.outputs?.metadata?.name)
      .map((r) => ({
        kind: WORKLOAD_TYPES[r.type] ?? "",
        namespace: r.outputs?.metadata?.namespace ?? "default",
        name: r.outputs?.metadata?.name ?? "",
      }));
    const pods: WorkloadPods[] = await waitForPods(cluster, workloads, 120);
    report["pods"] = pods;
    for (const p of pods.filter((p) => p.desired === 0 || p.ready < p.desired))
      failures.push(
        `${p.kind} ${p.namespace}/${p.name}: ${p.ready}/${p.desired} pods Ready${p.refused ? `; refused: ${p.refused}` : ""}`,
      );

    if (values["self-check"]) {
      const checks = await selfCheck(cluster);
      report["selfCheck"] = checks;
      for (const c of checks.filter((c) => !c.detected)) failures.push(`self-check missed ${c.what}: ${c.message}`);
      say(`self-check: ${checks.filter((c) => c.detected).length}/${checks.length} broken copies caught`);
    }

    const perpetual: string[] = [];
    for (const unit of units) {
      const again = await step(unit, "preview-again", ["preview", "--diff"]);
      perpetual.push(...changes(again.events));
      if (again.code !== 0)
        failures.push(`${unit.name}: the second preview failed (exit ${again.code}): ${tail(again.output)}`);
    }
    report["perpetualDiff"] = perpetual;
    if (perpetual.length > 0)
      failures.push(`the second preview still changes ${perpetual.length} resources: ${perpetual.join("; ")}`);

    if (stack === "dev" || review) {
      // In the reverse order: the app before the data before the cluster.
      let destroyCode = 0;
      for (const unit of [...units].reverse()) {
        const destroy = await step(unit, "destroy", ["destroy", "--yes"]);
        if (destroy.code !== 0) {
          destroyCode = destroy.code;
          failures.push(`${unit.name}: destroy failed (exit ${destroy.code}): ${tail(destroy.output)}`);
        }
      }
      // Deleting a namespace finishes when the namespace controller has emptied it.
      await cluster.kubectl([
        "wait",
        "--for=delete",
        "namespace",
        "-l",
        "app.kubernetes.io/part-of=doc-rag",
        "--timeout=90s",
      ]);
      const left = await leftBehind(
        cluster,
        state.filter((r) => !r.retainOnDelete && !r.external),
      );
      report["destroy"] = {
        exitCode: destroyCode,
        leftBehind: left,
        retained: state.filter((r) => r.retainOnDelete).map((r) => r.urn),
      };
      if (left.length > 0) failures.push(`destroy left ${left.length} objects behind: ${left.join(", ")}`);
    }
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (values.keep)
      say(
        `cluster kept: KUBECONFIG=${cluster.kubeconfig}; stop it with RE_CLUSTER=${cluster.dir} bash ${path.join(engine.recipe, "stop-cluster.sh")}`,
      );
    else await cluster.stop();
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
  }
  report["notExercised"] = [
    ...Object.values(NO_CREDENTIALS).map(
      (why) => `${why}: its resources are recorded by a stand-in (recordedOnly), never deployed`,
    ),
    ...(values.charts ? [] : ["the charts' own workloads, webhooks and controllers (no chart directory)"]),
    "Argo Rollouts' canary and blue-green steps and analysis runs (no controller)",
    "image pulls and containers (kwok runs no container)",
  ];
  report["durationSeconds"] = Math.round((Date.now() - started) / 1000);
  report["failures"] = failures;
  fs.writeFileSync(path.join(out, "e2e-report.json"), JSON.stringify(report, null, 2) + "\n");
  if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
  for (const f of failures) console.error(`e2e ${stack}: FAILED: ${f}`);
  say(
    `${failures.length === 0 ? "passed" : `${failures.length} failures`} in ${report["durationSeconds"]} s; report: ${path.join(out, "e2e-report.json")}`,
  );
  return failures.length === 0 ? 0 : 1;
}

function tail(output: string): string {
  return output.trim().split("\n").slice(-15).join("\n");
}

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const i of items) counts[i] = (counts[i] ?? 0) + 1;
  return counts;
}
