/**
 * Allow-rules on top of each namespace's default deny. One NetworkPolicy per purpose, so a
 * reader of `kubectl get networkpolicy` sees what may talk to what and why.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { Endpoint } from "../config";

/**
 * Pods in a namespace (all of them when no labels are given), pods in every namespace, or
 * networks outside the cluster.
 */
export type Peer =
  | { namespace: pulumi.Input<string>; podLabels?: Record<string, string> }
  | { allNamespaces: true; podLabels?: Record<string, string> }
  | { cidrs: string[] };

export interface AllowArgs {
  /** The NetworkPolicy's name. */
  name: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  /** The pods the rule is about. */
  podLabels: Record<string, string>;
  direction: "ingress" | "egress";
  peers: Peer[];
  /** TCP ports; empty means every port. */
  ports: number[];
}

function peerSelector(peer: Peer): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
  if ("cidrs" in peer) return peer.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  if ("allNamespaces" in peer) {
    return [{ namespaceSelector: {}, ...(peer.podLabels ? { podSelector: { matchLabels: peer.podLabels } } : {}) }];
  }
  return [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
      ...(peer.podLabels ? { podSelector: { matchLabels: peer.podLabels } } : {}),
    },
  ];
}

/** Allows TCP traffic on `ports` between the selected pods and the peers, in one direction. */
export function allowTraffic(
  resourceName: string,
  args: AllowArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  const peers = args.peers.flatMap(peerSelector);
  const ports = args.ports.map((port) => ({ protocol: "TCP", port }));
  const rule =
    args.direction === "ingress" ? { ingress: [{ from: peers, ports }] } : { egress: [{ to: peers, ports }] };
  return new k8s.networking.v1.NetworkPolicy(
    resourceName,
    {
      metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
      spec: {
        podSelector: { matchLabels: args.podLabels },
        policyTypes: [args.direction === "ingress" ? "Ingress" : "Egress"],
        ...rule,
      },
    },
    opts,
  );
}

/** A rule without the parts every rule of one component shares. */
export type Rule = Omit<AllowArgs, "namespace" | "labels">;

/** Binds `allowTraffic` to a component: its children, in one namespace, with its labels. */
export function trafficRules(
  parent: pulumi.Resource,
  prefix: string,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
): (suffix: string, rule: Rule) => k8s.networking.v1.NetworkPolicy {
  return (suffix, rule) => allowTraffic(`${prefix}-${suffix}`, { ...rule, namespace, labels }, { parent });
}

/** An egress rule's direction, peers and ports toward an address outside the cluster. */
export function toEndpoint(endpoint: Endpoint): Pick<Rule, "direction" | "peers" | "ports"> {
  return { direction: "egress", peers: [{ cidrs: endpoint.cidrs }], ports: endpoint.ports };
}

/** Lets every pod of the namespace talk to every other, both ways (`<name>-ingress`, `<name>-egress`). */
export function allowWithinNamespace(
  rule: ReturnType<typeof trafficRules>,
  name: string,
  namespace: pulumi.Input<string>,
): void {
  for (const direction of ["ingress", "egress"] as const) {
    rule(`within-namespace-${direction}`, {
      name: `${name}-${direction}`,
      podLabels: {},
      direction,
      peers: [{ namespace }],
      ports: [],
    });
  }
}
