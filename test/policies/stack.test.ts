import * as assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import { githubBranchProtection } from "../../policies/github";
import { gatewayHttpsOnly } from "../../policies/network";
import {
  customResourcesAfterCrds,
  namespaceGuardrails,
  noDefaultNamespace,
  statefulResourcesProtected,
  workloadResilience,
} from "../../policies/stack";
import { kubernetesTarget, runStackPolicy, type PolicyTarget } from "../harness";
import { workloads } from "./fixtures";

const k8s = kubernetesTarget;

async function messages(policy: StackValidationPolicy, targets: PolicyTarget[], config = {}) {
  const outcome = await runStackPolicy(policy, targets, config);
  return outcome.violations.map((v) => v.message);
}

async function expectViolation(policy: StackValidationPolicy, targets: PolicyTarget[], expected: string, config = {}) {
  const found = await messages(policy, targets, config);
  assert.ok(
    found.some((m) => m.includes(expected)),
    `expected "${expected}", got:\n${found.join("\n") || "(none)"}`,
  );
}

/** A namespace with everything the guardrails ask for. */
function guardedNamespace(name: string): PolicyTarget[] {
  const meta = { namespace: name };
  return [
    k8s("core/v1:Namespace", name, { metadata: { name } }),
    k8s("core/v1:ResourceQuota", `${name}-quota`, { metadata: { ...meta, name: "q" }, spec: { hard: {} } }),
    k8s("core/v1:LimitRange", `${name}-limits`, { metadata: { ...meta, name: "l" }, spec: { limits: [] } }),
    k8s("networking.k8s.io/v1:NetworkPolicy", `${name}-deny`, {
      metadata: { ...meta, name: "d" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    }),
  ];
}

describe("policy: namespace-guardrails", () => {
  it("allows namespaces with a quota, limits and a default deny", async () =>
    assert.deepEqual(await messages(namespaceGuardrails, guardedNamespace("doc-rag")), []));
  for (const [i, missing] of ["a ResourceQuota", "a LimitRange", "a default-deny NetworkPolicy"].entries()) {
    it(`denies a namespace without ${missing}`, async () => {
      const targets = guardedNamespace("doc-rag").filter((_, j) => j !== i + 1);
      await expectViolation(namespaceGuardrails, targets, `namespace doc-rag has no ${missing}`);
    });
  }
  it("does not count a policy that allows traffic as default deny", async () => {
    const targets = guardedNamespace("doc-rag");
    (targets[3]!.props.spec as Record<string, unknown>).ingress = [{}];
    await expectViolation(namespaceGuardrails, targets, "no a default-deny NetworkPolicy");
  });
});

describe("policy: workload-resilience", () => {
  const deployment = workloads().Deployment!;
  const pdb = k8s("policy/v1:PodDisruptionBudget", "api-pdb", {
    metadata: { name: "api", namespace: "doc-rag" },
    spec: { minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "api" } } },
  });
  const hpa = k8s("autoscaling/v2:HorizontalPodAutoscaler", "api-hpa", {
    metadata: { name: "api", namespace: "doc-rag" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" },
      minReplicas: 3,
      maxReplicas: 20,
    },
  });
  it("allows a Deployment with a PDB and an HPA", async () =>
    assert.deepEqual(await messages(workloadResilience, [deployment, pdb, hpa]), []));
  it("denies a Deployment without a PodDisruptionBudget", () =>
    expectViolation(
      workloadResilience,
      [deployment, hpa],
      "Deployment doc-rag/api has no a PodDisruptionBudget selecting its pods",
    ));
  it("denies a Deployment without an autoscaler", () =>
    expectViolation(workloadResilience, [deployment, pdb], "has no a HorizontalPodAutoscaler targeting it"));
  it("denies a PDB that selects other pods", async () => {
    const other = structuredClone(pdb);
    (other.props.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels = {
      "app.kubernetes.io/name": "web",
    };
    await expectViolation(workloadResilience, [deployment, other, hpa], "PodDisruptionBudget");
  });
});

describe("policy: stateful-resources-protected", () => {
  const pvc = k8s("core/v1:PersistentVolumeClaim", "data", { metadata: { name: "data", namespace: "doc-rag-data" } });
  const qdrant: PolicyTarget = {
    type: "kubernetes:helm.sh/v3:Release",
    name: "qdrant",
    props: { chart: "qdrant", namespace: "doc-rag-data" },
  };
  const mount: PolicyTarget = { type: "vault:index/mount:Mount", name: "kv", props: { path: "secret", type: "kv-v2" } };
  const repo: PolicyTarget = { type: "github:index/repository:Repository", name: "repo", props: { name: "doc-rag" } };
  const protectedAll = [pvc, qdrant, mount, repo].map((t) => ({ ...t, opts: { protect: true } }));
  it("allows protected data", async () =>
    assert.deepEqual(await messages(statefulResourcesProtected, protectedAll), []));
  for (const t of [pvc, qdrant, mount, repo]) {
    it(`denies an unprotected ${t.type}`, () =>
      expectViolation(statefulResourcesProtected, [t], `${t.type} ${t.name} holds data but is not protected`));
  }
  it("ignores releases that hold no data", async () => {
    assert.deepEqual(
      await messages(statefulResourcesProtected, [
        { type: "kubernetes:helm.sh/v3:Release", name: "rollouts", props: { chart: "argo-rollouts" } },
      ]),
      [],
    );
  });
});

describe("policy: no-default-namespace", () => {
  it("allows objects with a namespace, and cluster-scoped ones without", async () => {
    assert.deepEqual(
      await messages(noDefaultNamespace, [
        ...guardedNamespace("doc-rag"),
        k8s("rbac.authorization.k8s.io/v1:ClusterRole", "r", { metadata: { name: "r" } }),
      ]),
      [],
    );
  });
  it("denies an object without a namespace", () =>
    expectViolation(
      noDefaultNamespace,
      [k8s("core/v1:ConfigMap", "cm", { metadata: { name: "cm" } })],
      "kubernetes:core/v1:ConfigMap cm is in the default namespace",
    ));
  it("denies an object in default", () =>
    expectViolation(
      noDefaultNamespace,
      [k8s("apps/v1:Deployment", "d", { metadata: { name: "d", namespace: "default" } })],
      "is in the default namespace",
    ));
  it("denies a Helm release without a namespace", () =>
    expectViolation(
      noDefaultNamespace,
      [{ type: "kubernetes:helm.sh/v3:Release", name: "r", props: { chart: "x" } }],
      "kubernetes:helm.sh/v3:Release r",
    ));
});

describe("policy: custom-resources-after-crds", () => {
  const release: PolicyTarget = {
    type: "kubernetes:helm.sh/v3:Release",
    name: "argo-rollouts",
    urn: "urn:release",
    props: { chart: "argo-rollouts", namespace: "doc-rag-delivery" },
  };
  const rollout = (dependencies: string[]) =>
    k8s("argoproj.io/v1alpha1:Rollout", "api", { metadata: { name: "api", namespace: "doc-rag" } }, { dependencies });
  const service = k8s(
    "core/v1:Service",
    "svc",
    { metadata: { name: "svc", namespace: "doc-rag" } },
    { dependencies: ["urn:release"] },
  );
  it("allows a Rollout that depends on the Argo Rollouts release", async () =>
    assert.deepEqual(await messages(customResourcesAfterCrds, [release, rollout(["urn:release"])]), []));
  it("allows a dependency through another resource", async () =>
    assert.deepEqual(await messages(customResourcesAfterCrds, [release, service, rollout([service.urn!])]), []));
  it("denies a Rollout that does not wait for its CRD", () =>
    expectViolation(
      customResourcesAfterCrds,
      [release, rollout([])],
      "does not depend on what installs its CRD (argo-rollouts)",
    ));
  it("denies a custom resource of an unknown group", () =>
    expectViolation(
      customResourcesAfterCrds,
      [k8s("example.com/v1:Widget", "w", { metadata: { name: "w", namespace: "doc-rag" } })],
      "no known source for the CRDs of example.com",
    ));
  it("accepts a CustomResourceDefinition in the stack as the source", async () => {
    const crd = k8s("apiextensions.k8s.io/v1:CustomResourceDefinition", "widgets", { spec: { group: "example.com" } });
    const widget = k8s(
      "example.com/v1:Widget",
      "w",
      { metadata: { name: "w", namespace: "doc-rag" } },
      { dependencies: [crd.urn!] },
    );
    assert.deepEqual(
      await messages(customResourcesAfterCrds, [crd, widget], { crdSources: { "example.com": [] } }),
      [],
    );
  });
  it("lets the projects brought up after the cluster project (their CRDs already there) go without a dependency", async () => {
    const widget = (project: string): PolicyTarget => ({
      ...k8s("example.com/v1:Widget", "w", { metadata: { name: "w", namespace: "doc-rag" } }),
      urn: `urn:pulumi:prod::${project}::kubernetes:example.com/v1:Widget::w`,
    });
    const config = { crdSources: { "example.com": ["widget-operator"] } };
    assert.deepEqual(await messages(customResourcesAfterCrds, [widget("doc-rag-app")], config), []);
    assert.deepEqual(await messages(customResourcesAfterCrds, [widget("doc-rag-data")], config), []);
    assert.match(
      (await messages(customResourcesAfterCrds, [widget("doc-rag-cluster")], config)).join(),
      /does not depend on what installs its CRD \(widget-operator\)/,
    );
    // A review stack (pr.json): its cluster's owner installed the CRDs.
    assert.deepEqual(
      await messages(customResourcesAfterCrds, [widget("doc-rag")], { ...config, crdsInstalledBefore: ["doc-rag"] }),
      [],
    );
  });
});

describe("policy: gateway-https-only", () => {
  const gateway = (listeners: unknown[]) =>
    k8s("gateway.networking.k8s.io/v1:Gateway", "gw", {
      metadata: { name: "gw", namespace: "doc-rag-gateway" },
      spec: { gatewayClassName: "eg", listeners },
    });
  const https = {
    name: "https",
    protocol: "HTTPS",
    port: 443,
    tls: { mode: "Terminate", certificateRefs: [{ name: "tls" }] },
  };
  const http = { name: "http", protocol: "HTTP", port: 80 };
  const route = (sectionName: string, rules: unknown[]) =>
    k8s("gateway.networking.k8s.io/v1:HTTPRoute", `route-${sectionName}`, {
      metadata: { name: `route-${sectionName}`, namespace: "doc-rag" },
      spec: { parentRefs: [{ name: "gw", namespace: "doc-rag-gateway", sectionName }], rules },
    });
  const serve = [{ backendRefs: [{ name: "api", port: 8080 }] }];
  const redirect = [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }];
  it("allows HTTPS serving and an HTTP listener that only redirects", async () =>
    assert.deepEqual(
      await messages(gatewayHttpsOnly, [gateway([https, http]), route("https", serve), route("http", redirect)]),
      [],
    ));
  it("denies a route that serves on the HTTP listener", () =>
    expectViolation(
      gatewayHttpsOnly,
      [gateway([https, http]), route("http", serve)],
      "attaches to an HTTP listener with 1 rule(s) that serve traffic",
    ));
  it("denies a route without sectionName on a gateway with an HTTP listener", async () => {
    const r = route("https", serve);
    delete (r.props.spec as { parentRefs: { sectionName?: string }[] }).parentRefs[0]!.sectionName;
    await expectViolation(gatewayHttpsOnly, [gateway([https, http]), r], "attaches to an HTTP listener");
  });
  it("denies an HTTPS listener without a certificate", () =>
    expectViolation(
      gatewayHttpsOnly,
      [gateway([{ ...https, tls: {} }])],
      'HTTPS listener "https" has no tls.certificateRefs',
    ));
  it("denies other protocols", () =>
    expectViolation(gatewayHttpsOnly, [gateway([{ name: "raw", protocol: "TCP", port: 9000 }])], "uses protocol TCP"));
});

describe("policy: github-branch-protection", () => {
  const ruleset = (rules: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): PolicyTarget => ({
    type: "github:index/repositoryRuleset:RepositoryRuleset",
    name: "main",
    props: {
      name: "main",
      repository: "doc-rag",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } },
      bypassActors: [],
      rules: {
        deletion: true,
        nonFastForward: true,
        pullRequest: {
          requiredApprovingReviewCount: 2,
          dismissStaleReviewsOnPush: true,
          requireCodeOwnerReview: true,
          requireLastPushApproval: true,
        },
        requiredStatusChecks: { requiredChecks: [{ context: "test" }], strictRequiredStatusChecksPolicy: true },
        ...rules,
      },
      ...extra,
    },
  });
  const repo: PolicyTarget = { type: "github:index/repository:Repository", name: "repo", props: { name: "doc-rag" } };
  const codeowners: PolicyTarget = {
    type: "github:index/repositoryFile:RepositoryFile",
    name: "codeowners",
    props: { repository: "doc-rag", file: ".github/CODEOWNERS", content: "* @doc-rag/platform" },
  };
  const full = ruleset();
  const pr = (full.props.rules as { pullRequest: Record<string, unknown> }).pullRequest;

  it("allows the Scorecard maximum with CODEOWNERS managed", async () =>
    assert.deepEqual(await messages(githubBranchProtection, [repo, full, codeowners]), []));
  it("is not applicable to a stack without repositories", async () =>
    assert.ok((await runStackPolicy(githubBranchProtection, [])).notApplicable));

  const cases: [string, PolicyTarget, string][] = [
    ["force pushes", ruleset({ nonFastForward: false }), "force pushes are not blocked"],
    ["deletion", ruleset({ deletion: undefined }), "branch deletion is not blocked"],
    ["no pull requests", ruleset({ pullRequest: undefined }), "pull requests are not required"],
    [
      "one approval",
      ruleset({ pullRequest: { ...pr, requiredApprovingReviewCount: 1 } }),
      "requiredApprovingReviewCount is 1; required: at least 2",
    ],
    [
      "stale approvals kept",
      ruleset({ pullRequest: { ...pr, dismissStaleReviewsOnPush: false } }),
      "stale approvals are not dismissed",
    ],
    [
      "no code-owner review",
      ruleset({ pullRequest: { ...pr, requireCodeOwnerReview: false } }),
      "code-owner review is not required",
    ],
    [
      "last push unapproved",
      ruleset({ pullRequest: { ...pr, requireLastPushApproval: false } }),
      "the last push need not be approved",
    ],
    ["no status checks", ruleset({ requiredStatusChecks: undefined }), "no status checks are required"],
    [
      "out-of-date branches",
      ruleset({
        requiredStatusChecks: { requiredChecks: [{ context: "test" }], strictRequiredStatusChecksPolicy: false },
      }),
      "branches need not be up to date",
    ],
    [
      "bypass actors",
      ruleset({}, { bypassActors: [{ actorId: 1, actorType: "Team", bypassMode: "always" }] }),
      "1 bypass actor(s)",
    ],
    ["an evaluate-only ruleset", ruleset({}, { enforcement: "evaluate" }), 'enforcement is "evaluate"'],
  ];
  for (const [title, target, expected] of cases) {
    it(`denies ${title}`, () => expectViolation(githubBranchProtection, [repo, target, codeowners], expected));
  }
  it("denies code-owner review without a managed CODEOWNERS file", () =>
    expectViolation(githubBranchProtection, [repo, full], "no CODEOWNERS file"));
  it("denies a repository whose default branch has no ruleset", () =>
    expectViolation(
      githubBranchProtection,
      [repo, ruleset({}, { conditions: { refName: { includes: ["refs/heads/dev"], excludes: [] } } })],
      "repository doc-rag: no ruleset protects the default branch",
    ));
  it("takes the approval count from the config", () =>
    expectViolation(githubBranchProtection, [repo, full, codeowners], "required: at least 3", { minApprovals: 3 }));
});
