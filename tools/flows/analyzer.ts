/**
 * Kubernetes NetworkPolicy semantics, exactly (networking.k8s.io/v1, as the API reference states
 * them): which policies select a pod, whether it is isolated for ingress or egress, and whether a
 * flow from a source to a destination on a port is allowed, which needs the source's egress and the
 * destination's ingress both. Pods on the host network are outside NetworkPolicy: no policy
 * isolates them, and other pods' rules see them only as their node's address (an ipBlock).
 */
import { BlockList, isIPv6 } from "node:net";

export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/** A label selector against labels; an empty selector selects everything. */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values } of selector.matchExpressions ?? []) {
    const value = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
    const has = value !== undefined;
    const ok =
      operator === "In"
        ? has && (values ?? []).includes(value)
        : operator === "NotIn"
          ? !has || !(values ?? []).includes(value)
          : operator === "Exists"
            ? has
            : operator === "DoesNotExist"
              ? !has
              : false; // an unknown operator is invalid: the API server refuses the object
    if (!ok) return false;
  }
  return true;
}

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface ContainerPort {
  name?: string;
  port: number;
  protocol: Protocol;
}

export interface Pod {
  /** namespace/workload (the workload stands for all of its pods). */
  id: string;
  namespace: string;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** On the node's network: outside NetworkPolicy, seen by others at `address`. */
  hostNetwork?: { address: string };
}

/** Something outside the pod network: the API server, a node, an address on the internet. */
export interface External {
  id: string;
  address: string;
}

export type Peer = { pod: Pod } | { external: External };

export interface Flow {
  from: Peer;
  to: Peer;
  port: number;
  protocol: Protocol;
}

export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector?: LabelSelector | null;
    policyTypes?: string[] | null;
    ingress?: Rule[] | null;
    egress?: Rule[] | null;
  };
}

interface Rule {
  from?: PolicyPeer[] | null;
  to?: PolicyPeer[] | null;
  ports?: { protocol?: string | null; port?: number | string | null; endPort?: number | null }[] | null;
}

interface PolicyPeer {
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipBlock?: { cidr: string; except?: string[] | null } | null;
}

export interface World {
  /** Namespace name → its labels (kubernetes.io/metadata.name included). */
  namespaces: Map<string, Record<string, string>>;
  policies: NetworkPolicy[];
}

/** One direction's verdict: isolated or not, and the policies whose rules allow the flow. */
export interface Side {
  isolated: boolean;
  allowedBy: string[];
}

export interface Verdict {
  allowed: boolean;
  /** Undefined where NetworkPolicy does not apply (an external peer, a host-network pod). */
  egress?: Side;
  ingress?: Side;
}

const policyName = (p: NetworkPolicy) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`;

/** The policy types a policy has: as written, else Ingress, plus Egress when it has egress rules. */
export function policyTypes(policy: NetworkPolicy): string[] {
  return policy.spec.policyTypes ?? ["Ingress", ...(policy.spec.egress ? ["Egress"] : [])];
}

function inCidr(address: string, cidr: string): boolean {
  const [net, bits] = cidr.split("/") as [string, string | undefined];
  const family = isIPv6(net) ? "ipv6" : "ipv4";
  if (isIPv6(address) !== (family === "ipv6")) return false;
  const list = new BlockList();
  list.addSubnet(net, Number(bits ?? (family === "ipv6" ? 128 : 32)), family);
  return list.check(address, family);
}

/** Whether a policy peer matches a flow's other end, for a policy in `namespace`. */
function peerMatches(peer: PolicyPeer, other: Peer, namespace: string, world: World): boolean {
  if (peer.ipBlock) {
    const address = "external" in other ? other.external.address : other.pod.hostNetwork?.address;
    return (
      address !== undefined &&
      inCidr(address, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((c) => inCidr(address, c))
    );
  }
  // Pod selectors see pods on the pod network only.
  if (!("pod" in other) || other.pod.hostNetwork) return false;
  const pod = other.pod;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, world.namespaces.get(pod.namespace) ?? {})
    : pod.namespace === namespace;
  return nsOk && (!peer.podSelector || selects(peer.podSelector, pod.labels));
}

/** Whether a rule's ports admit the flow; a named port is the destination pod's port of that name. */
function portMatches(rule: Rule, flow: Flow): boolean {
  if (!rule.ports?.length) return true;
  return rule.ports.some((p) => {
    if ((p.protocol ?? "TCP") !== flow.protocol) return false;
    if (p.port === undefined || p.port === null) return true;
    if (typeof p.port === "number")
      return p.endPort ? flow.port >= p.port && flow.port <= p.endPort : flow.port === p.port;
    if (/^\d+$/.test(p.port)) return flow.port === Number(p.port);
    const dest = "pod" in flow.to ? flow.to.pod : undefined;
    return Boolean(dest?.ports.some((c) => c.name === p.port && c.port === flow.port && c.protocol === flow.protocol));
  });
}

function side(world: World, pod: Pod, direction: "Ingress" | "Egress", flow: Flow): Side {
  const selecting = world.policies.filter(
    (p) =>
      (p.metadata.namespace ?? "") === pod.namespace &&
      selects(p.spec.podSelector ?? {}, pod.labels) &&
      policyTypes(p).includes(direction),
  );
  const other = direction === "Ingress" ? flow.from : flow.to;
  const allowedBy = selecting
    .filter((p) =>
      ((direction === "Ingress" ? p.spec.ingress : p.spec.egress) ?? []).some((rule) => {
        const peers = direction === "Ingress" ? rule.from : rule.to;
        return (
          (!peers?.length || peers.some((peer) => peerMatches(peer, other, pod.namespace, world))) &&
          portMatches(rule, flow)
        );
      }),
    )
    .map(policyName);
  return { isolated: selecting.length > 0, allowedBy };
}

const enforced = (peer: Peer): Pod | undefined => ("pod" in peer && !peer.pod.hostNetwork ? peer.pod : undefined);

/** Whether NetworkPolicy lets the flow through: the source's egress and the destination's ingress. */
export function evaluate(world: World, flow: Flow): Verdict {
  const source = enforced(flow.from);
  const dest = enforced(flow.to);
  const egress = source ? side(world, source, "Egress", flow) : undefined;
  const ingress = dest ? side(world, dest, "Ingress", flow) : undefined;
  const ok = (s: Side | undefined) => !s || !s.isolated || s.allowedBy.length > 0;
  return { allowed: ok(egress) && ok(ingress), ...(egress ? { egress } : {}), ...(ingress ? { ingress } : {}) };
}
