import * as assert from "node:assert/strict";
import {
  evaluate,
  selects,
  type Flow,
  type NetworkPolicy,
  type Peer,
  type Pod,
  type Protocol,
} from "../tools/flows/analyzer";

/** Hand-built cases for each rule of NetworkPolicy semantics, the ones people get wrong among them. */
const namespaces = new Map<string, Record<string, string>>([
  ["app", { "kubernetes.io/metadata.name": "app", team: "doc-rag" }],
  ["mon", { "kubernetes.io/metadata.name": "mon", team: "platform" }],
  ["other", { "kubernetes.io/metadata.name": "other" }],
]);
const pod = (namespace: string, labels: Record<string, string>, extra: Partial<Pod> = {}): { pod: Pod } => ({
  pod: { id: `${namespace}/${labels["app"] ?? "pod"}`, namespace, labels, ports: [], ...extra },
});
const api = pod("app", { app: "api" }, { ports: [{ name: "http", port: 8080, protocol: "TCP" }] });
const web = pod("app", { app: "web", tier: "front" });
const prometheus = pod("mon", { app: "prometheus" });
const stranger = pod("other", { app: "prometheus" });
const internet: Peer = { external: { id: "internet", address: "203.0.113.10" } };
const policy = (namespace: string, spec: NetworkPolicy["spec"], name = "p"): NetworkPolicy => ({
  metadata: { name, namespace },
  spec,
});
const flow = (from: Peer, to: Peer, port = 8080, protocol: Protocol = "TCP"): Flow => ({ from, to, port, protocol });
const allowed = (policies: NetworkPolicy[], f: Flow) => evaluate({ namespaces, policies }, f).allowed;
const denyAll = (namespace: string) =>
  policy(namespace, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, "deny");

describe("network policy analyzer: semantics", () => {
  it("allows everything where no policy selects the pods", () => {
    assert.ok(allowed([], flow(web, api)));
    assert.ok(allowed([], flow(api, internet)));
  });

  it("an empty podSelector selects every pod of its namespace, and only of its namespace", () => {
    const deny = policy("app", { podSelector: {}, policyTypes: ["Ingress"] });
    assert.ok(!allowed([deny], flow(web, api)));
    assert.ok(!allowed([deny], flow(prometheus, web)));
    assert.ok(allowed([deny], flow(web, prometheus)), "a policy in app isolates no pod in mon");
  });

  it("an egress-only policy does not isolate ingress", () => {
    const egressOnly = policy("app", { podSelector: {}, policyTypes: ["Egress"] });
    assert.ok(allowed([egressOnly], flow(prometheus, api)));
    assert.ok(!allowed([egressOnly], flow(api, prometheus)));
  });

  it("without policyTypes: Ingress always, Egress only when the policy has egress rules", () => {
    const ingressRules = policy("app", { podSelector: {}, ingress: [] });
    assert.ok(!allowed([ingressRules], flow(prometheus, api)));
    assert.ok(allowed([ingressRules], flow(api, prometheus)), "no egress rules: egress is not isolated");
    const egressRules = policy("app", { podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] });
    assert.ok(!allowed([egressRules], flow(api, prometheus)));
    assert.ok(!allowed([egressRules], flow(prometheus, api)), "Ingress is implied: isolated, and no rule allows");
  });

  it("a flow between two pods needs the source's egress and the destination's ingress", () => {
    const policies = [denyAll("app"), denyAll("mon")];
    const egress = policy(
      "mon",
      {
        podSelector: { matchLabels: { app: "prometheus" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: {} }] }],
      },
      "egress",
    );
    const ingress = policy(
      "app",
      {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: {} }] }],
      },
      "ingress",
    );
    assert.ok(!allowed([...policies, egress], flow(prometheus, api)), "egress alone");
    assert.ok(!allowed([...policies, ingress], flow(prometheus, api)), "ingress alone");
    const verdict = evaluate({ namespaces, policies: [...policies, egress, ingress] }, flow(prometheus, api));
    assert.deepEqual(verdict, {
      allowed: true,
      egress: { isolated: true, allowedBy: ["mon/egress"] },
      ingress: { isolated: true, allowedBy: ["app/ingress"] },
    });
  });

  it("namespaceSelector and podSelector in one peer is an AND; in two peers an OR", () => {
    const and = policy("app", {
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: "platform" } },
              podSelector: { matchLabels: { app: "prometheus" } },
            },
          ],
        },
      ],
    });
    const or = policy("app", {
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { team: "platform" } } },
            { podSelector: { matchLabels: { app: "prometheus" } } },
          ],
        },
      ],
    });
    const otherInMon = pod("mon", { app: "grafana" });
    const prometheusInApp = pod("app", { app: "prometheus" });
    assert.deepEqual(
      [prometheus, otherInMon, stranger, prometheusInApp].map((p) => allowed([and], flow(p, api))),
      [true, false, false, false],
    );
    // OR: the namespace's pods, or pods of the policy's own namespace with the label.
    assert.deepEqual(
      [prometheus, otherInMon, stranger, prometheusInApp].map((p) => allowed([or], flow(p, api))),
      [true, true, false, true],
    );
  });

  it("a podSelector alone means the policy's own namespace; namespaceSelector {} means every namespace", () => {
    const own = policy("app", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] });
    assert.ok(allowed([own], flow(web, api)));
    assert.ok(!allowed([own], flow(prometheus, api)));
    const every = policy("app", { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] });
    assert.ok(allowed([every], flow(stranger, api)));
    assert.ok(!allowed([every], flow(internet, api)), "namespaceSelector selects pods, not outside addresses");
  });

  it("matchExpressions: In, NotIn, Exists, DoesNotExist", () => {
    const labels = { app: "api", tier: "back" };
    assert.ok(selects({ matchExpressions: [{ key: "tier", operator: "In", values: ["back", "x"] }] }, labels));
    assert.ok(!selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["back"] }] }, labels));
    assert.ok(selects({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, labels));
    assert.ok(selects({ matchExpressions: [{ key: "app", operator: "Exists" }] }, labels));
    assert.ok(!selects({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels));
    assert.ok(!selects({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }, labels));
    assert.ok(
      !selects(
        { matchLabels: { app: "api" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] },
        labels,
      ),
    );
    const front = policy("app", {
      podSelector: { matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] },
      policyTypes: ["Ingress"],
    });
    assert.ok(!allowed([front], flow(api, web)));
    assert.ok(allowed([front], flow(web, api)), "api lacks tier=front: not selected");
  });

  it("ipBlock with except matches outside addresses, never pods on the pod network, and host-network pods by node address", () => {
    const egress = policy("app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24", except: ["203.0.113.0/29"] } }] }],
    });
    assert.ok(allowed([egress], flow(api, internet)));
    assert.ok(!allowed([egress], flow(api, { external: { id: "x", address: "203.0.113.3" } })), "in except");
    assert.ok(!allowed([egress], flow(api, { external: { id: "x", address: "198.51.100.1" } })));
    assert.ok(!allowed([egress], flow(api, { external: { id: "v6", address: "2001:db8::1" } })), "another family");
    const all = policy("app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
    });
    assert.ok(!allowed([all], flow(api, prometheus)), "an ipBlock does not stand for pods");
    const exporter = pod("mon", { app: "node-exporter" }, { hostNetwork: { address: "10.0.0.5" } });
    const nodes = policy("app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/16" } }] }],
    });
    assert.ok(allowed([nodes], flow(api, exporter)));
    assert.ok(allowed([denyAll("mon")], flow(api, exporter)), "no policy isolates a host-network pod");
  });

  it("ports: numbered, named (the destination pod's), ranges with endPort, and protocols (TCP by default)", () => {
    const rule = (ports: NonNullable<NetworkPolicy["spec"]["ingress"]>[number]["ports"]) =>
      policy("app", { podSelector: {}, ingress: [{ ports }] });
    assert.ok(allowed([rule([{ port: 8080 }])], flow(web, api)));
    assert.ok(!allowed([rule([{ port: 9090 }])], flow(web, api)));
    assert.ok(allowed([rule([{ port: "http" }])], flow(web, api)), "api names 8080 http");
    assert.ok(!allowed([rule([{ port: "http" }])], flow(api, web)), "web has no port named http");
    assert.ok(!allowed([rule([{ port: "metrics" }])], flow(web, api)));
    assert.ok(allowed([rule([{ port: 8000, endPort: 8100 }])], flow(web, api)));
    assert.ok(!allowed([rule([{ port: 8000, endPort: 8079 }])], flow(web, api)));
    assert.ok(!allowed([rule([{ port: 8080, protocol: "UDP" }])], flow(web, api)));
    assert.ok(allowed([rule([{ port: 53, protocol: "UDP" }])], flow(web, api, 53, "UDP")));
    assert.ok(!allowed([rule([{ port: 53 }])], flow(web, api, 53, "UDP")), "TCP by default");
    assert.ok(
      allowed([rule([{ protocol: "UDP" }])], flow(web, api, 5353, "UDP")),
      "a protocol without a port: every port",
    );
    // A named port on egress is the destination's: it cannot match an address outside.
    const named = policy("app", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ port: "http" }] }] });
    assert.ok(allowed([named], flow(web, api)));
    assert.ok(!allowed([named], flow(web, internet)));
  });

  it("a rule without peers admits every source; ingress: [{}] allows all; ingress: [] with the type allows none", () => {
    assert.ok(
      allowed([policy("app", { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] })], flow(internet, api)),
    );
    assert.ok(allowed([policy("app", { podSelector: {}, ingress: [{}] })], flow(stranger, api)));
    assert.ok(!allowed([policy("app", { podSelector: {}, policyTypes: ["Ingress"], ingress: [] })], flow(web, api)));
  });

  it("policies add up: any selecting policy that allows the flow lets it through", () => {
    const verdict = evaluate(
      {
        namespaces,
        policies: [
          denyAll("app"),
          policy(
            "app",
            {
              podSelector: { matchLabels: { app: "api" } },
              ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }] }],
            },
            "a",
          ),
          policy("app", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }, "b"),
        ],
      },
      flow(web, api),
    );
    assert.deepEqual(verdict.ingress, { isolated: true, allowedBy: ["app/a", "app/b"] });
    // Still refused: the deny policy isolates web's egress too, and no policy allows it.
    assert.deepEqual(verdict.egress, { isolated: true, allowedBy: [] });
    assert.equal(verdict.allowed, false);
  });
});
