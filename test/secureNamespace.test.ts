import * as assert from "node:assert/strict";
import { POD_SECURITY_REASON_ANNOTATION } from "../components/platform/secureNamespace";
import { childrenOf, find, ofType, runStack, type StackRun } from "./harness";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const QUOTA = "kubernetes:core/v1:ResourceQuota";
const LIMITS = "kubernetes:core/v1:LimitRange";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const COMPONENT = "doc-rag:platform:SecureNamespace";
const ROLES = ["application", "data", "monitoring", "security", "delivery", "gateway", "nodeAgents"];

type Inputs = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const inputs = (run: StackRun, type: string, name: string) => find(run, type, name).inputs as Inputs;

describe("SecureNamespace", () => {
  const runs: Record<string, StackRun> = {};
  before(async () => {
    for (const stack of ["dev", "staging", "production"]) {
      runs[stack] = await runStack(stack);
      assert.equal(runs[stack].error, undefined, runs[stack].error?.message);
    }
  });

  for (const stack of ["dev", "staging", "production"]) {
    describe(`in ${stack}`, () => {
      it("creates one component per platform namespace, each with its five children", () => {
        const run = runs[stack]!;
        assert.deepEqual(
          ofType(run, COMPONENT)
            .map((c) => c.name)
            .sort(),
          [...ROLES].sort(),
        );
        for (const role of ROLES) {
          const children = childrenOf(run, find(run, COMPONENT, role)).map((c) => `${c.type} ${c.name}`);
          assert.deepEqual(children.sort(), [
            `${LIMITS} ${role}-limits`,
            `${NAMESPACE} ${role}-namespace`,
            `${QUOTA} ${role}-quota`,
            `${NETPOL} ${role}-allow-dns`,
            `${NETPOL} ${role}-default-deny`,
          ]);
        }
      });

      it("labels every namespace restricted (the node agents' privileged) for enforce, audit and warn, pinned to v1.36", () => {
        for (const role of ROLES) {
          const labels = inputs(runs[stack]!, NAMESPACE, `${role}-namespace`).metadata.labels;
          const level = role === "nodeAgents" ? "privileged" : "restricted";
          for (const mode of ["enforce", "audit", "warn"]) {
            assert.equal(labels[`pod-security.kubernetes.io/${mode}`], level, `${role} ${mode}`);
            assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], "v1.36", `${role} ${mode}-version`);
          }
        }
      });

      it("carries the standard app.kubernetes.io labels on every object", () => {
        const run = runs[stack]!;
        for (const role of ROLES) {
          for (const child of childrenOf(run, find(run, COMPONENT, role))) {
            const labels = (child.inputs as Inputs).metadata.labels;
            assert.equal(labels["app.kubernetes.io/name"], "doc-rag");
            assert.equal(labels["app.kubernetes.io/part-of"], "doc-rag");
            assert.equal(labels["app.kubernetes.io/component"], role);
            assert.equal(labels["app.kubernetes.io/managed-by"], "pulumi");
            assert.equal(labels["doc-rag.io/environment"], stack);
          }
        }
      });

      it("denies all ingress and egress by default and allows DNS to kube-dns only", () => {
        const run = runs[stack]!;
        for (const role of ROLES) {
          const namespace = inputs(run, NAMESPACE, `${role}-namespace`).metadata.name;
          const deny = inputs(run, NETPOL, `${role}-default-deny`);
          assert.equal(deny.metadata.namespace, namespace);
          assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
          const dns = inputs(run, NETPOL, `${role}-allow-dns`);
          assert.equal(dns.metadata.namespace, namespace);
          assert.deepEqual(dns.spec.policyTypes, ["Egress"]);
          assert.deepEqual(dns.spec.podSelector, {});
          assert.equal(dns.spec.ingress, undefined);
          assert.deepEqual(dns.spec.egress, [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ]);
        }
      });

      it("gives every container default requests and limits through a LimitRange", () => {
        for (const role of ROLES) {
          const limits = inputs(runs[stack]!, LIMITS, `${role}-limits`).spec.limits;
          assert.equal(limits.length, 1);
          assert.equal(limits[0].type, "Container");
          assert.ok(limits[0].defaultRequest.cpu && limits[0].defaultRequest.memory, `${role} defaultRequest`);
          assert.ok(limits[0].default.cpu && limits[0].default.memory, `${role} default`);
        }
      });
    });
  }

  it("gives production's application namespace the original document's object counts, and room for its autoscalers", () => {
    const quota = inputs(runs["production"]!, QUOTA, "application-quota");
    assert.equal(quota.metadata.name, "doc-rag-quota");
    assert.equal(quota.metadata.namespace, "doc-rag-prod");
    assert.deepEqual(quota.spec.hard, {
      // Sized by the footprint rule (test/render.test.ts proves every stack fits, with its headroom).
      "requests.cpu": "58",
      "requests.memory": "115Gi",
      "limits.cpu": "180",
      "limits.memory": "330Gi",
      persistentvolumeclaims: "10",
      services: "20",
      secrets: "30",
      configmaps: "30",
    });
  });

  it("sizes staging's and dev's application quota below production's", () => {
    // Each from its own services' autoscalers, by the same rule.
    const hard = (stack: string) => inputs(runs[stack]!, QUOTA, "application-quota").spec.hard;
    assert.deepEqual(
      ["staging", "dev"].map((s) => [hard(s)["requests.cpu"], hard(s)["limits.memory"]]),
      [
        ["40", "190Gi"],
        ["5", "16Gi"],
      ],
    );
  });

  it("protects and retains the namespaces that hold data, outside dev only", () => {
    const protectedNamespaces = (stack: string) =>
      ofType(runs[stack]!, NAMESPACE)
        .filter((ns) => ns.options.protect && ns.options.retainOnDelete)
        .map((ns) => ns.name)
        .sort();
    assert.deepEqual(protectedNamespaces("production"), ["data-namespace", "monitoring-namespace"]);
    assert.deepEqual(protectedNamespaces("staging"), ["data-namespace", "monitoring-namespace"]);
    assert.deepEqual(protectedNamespaces("dev"), []);
    assert.ok(ofType(runs["dev"]!, NAMESPACE).every((ns) => !ns.options.protect && !ns.options.retainOnDelete));
  });

  it("orders each namespaced object after its Namespace and nothing else", () => {
    const run = runs["production"]!;
    for (const role of ROLES) {
      const namespaceUrn = find(run, NAMESPACE, `${role}-namespace`).urn;
      for (const [type, suffix] of [
        [QUOTA, "quota"],
        [LIMITS, "limits"],
        [NETPOL, "default-deny"],
        [NETPOL, "allow-dns"],
      ] as const) {
        const resource = find(run, type, `${role}-${suffix}`);
        assert.deepEqual(resource.dependencies, [namespaceUrn]);
        assert.deepEqual(resource.options.dependsOn, [], "nothing waits for more than its namespace");
      }
    }
  });

  it("lowers a namespace's Pod Security level only with the reason recorded on it", async () => {
    const reason = "node-exporter reads host metrics through hostPath";
    const run = await runStack("production", {
      overrides: [
        "doc-rag:namespaces.monitoring.podSecurity.enforce=privileged",
        "doc-rag:namespaces.monitoring.podSecurity.audit=baseline",
        `doc-rag:namespaces.monitoring.podSecurity.reason=${reason}`,
      ],
    });
    assert.equal(run.error, undefined, run.error?.message);
    const metadata = inputs(run, NAMESPACE, "monitoring-namespace").metadata;
    assert.equal(metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    assert.equal(metadata.labels["pod-security.kubernetes.io/audit"], "baseline");
    assert.equal(metadata.labels["pod-security.kubernetes.io/warn"], "restricted");
    assert.deepEqual(metadata.annotations, { [POD_SECURITY_REASON_ANNOTATION]: reason });
    assert.equal(inputs(run, NAMESPACE, "data-namespace").metadata.annotations, undefined);
  });

  it("pins the Pod Security version labels to the configured Kubernetes version", async () => {
    const run = await runStack("staging", { overrides: ["doc-rag:kubernetesVersion=1.33"] });
    const labels = inputs(run, NAMESPACE, "data-namespace").metadata.labels;
    assert.equal(labels["pod-security.kubernetes.io/enforce-version"], "v1.33");
    assert.equal(labels["pod-security.kubernetes.io/warn-version"], "v1.33");
  });

  it("uses the configured cluster DNS selector", async () => {
    const run = await runStack("dev", {
      overrides: ['doc-rag:clusterDns={"namespace":"dns","podLabels":{"app":"coredns"}}'],
    });
    const to = inputs(run, NETPOL, "data-allow-dns").spec.egress[0].to[0];
    assert.deepEqual(to, {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "dns" } },
      podSelector: { matchLabels: { app: "coredns" } },
    });
  });
});
