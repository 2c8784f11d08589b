/**
 * The picture of the platform in the README, drawn from a recorded run of the program: each
 * namespace (by role) as one node listing what runs in it (Helm releases, the services, collectors), and the
 * flows between namespaces that its NetworkPolicies allow, with their ports. `npm run docs`
 * writes it; a test keeps it current.
 */
import { ofType, type StackRun, type Values } from "../lib";

const OUTSIDE = "outside";

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number | string; protocol?: string }[];
}

const id = (name: string) => name.replace(/[^A-Za-z0-9]/g, "_");

/** Where a peer is: a namespace by name, outside the cluster, or unknown (any namespace). */
function peerPlace(peer: Peer): string | undefined {
  if (peer.ipBlock) return OUTSIDE;
  return peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
}

/** A Mermaid flowchart of the stack's namespaces, their workloads and the flows between them. */
export function platformDiagram(run: StackRun): string {
  const roles = run.outputs["namespaces"] as Record<string, string>;
  const members = new Map<string, string[]>(Object.values(roles).map((ns) => [ns, []]));
  const add = (ns: string | undefined, label: string) => {
    if (ns) members.get(ns)?.push(label);
  };
  for (const r of ofType(run, "kubernetes:helm.sh/v3:Release")) {
    const name = r.inputs["name"] as string;
    const chart = String(r.inputs["chart"]).split("/").pop() ?? "";
    add(r.inputs["namespace"] as string, name === chart ? `${name} chart` : `${name} (${chart} chart)`);
  }
  for (const type of [
    "argoproj.io/v1alpha1:Rollout",
    "apps/v1:Deployment",
    "opentelemetry.io/v1beta1:OpenTelemetryCollector",
  ]) {
    for (const r of ofType(run, `kubernetes:${type}`)) {
      const meta = r.inputs["metadata"] as Values;
      add(meta["namespace"], `${meta["name"]} (${type.split(":")[1]})`);
    }
  }
  // One edge per (from, to) pair, with every port any policy opens for it.
  const edges = new Map<string, Set<string>>();
  const connect = (from: string | undefined, to: string | undefined, rule: Rule) => {
    if (!from || !to || from === to || (!members.has(from) && from !== OUTSIDE) || (!members.has(to) && to !== OUTSIDE))
      return;
    const ports = edges.get(`${from}\n${to}`) ?? new Set<string>();
    for (const p of rule.ports?.length ? rule.ports : [{ port: "any" }]) ports.add(String(p.port ?? "any"));
    edges.set(`${from}\n${to}`, ports);
  };
  for (const np of ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy")) {
    const ns = (np.inputs["metadata"] as Values)["namespace"] as string;
    const spec = np.inputs["spec"] as { ingress?: Rule[]; egress?: Rule[] };
    for (const rule of spec.ingress ?? []) for (const peer of rule.from ?? []) connect(peerPlace(peer), ns, rule);
    for (const rule of spec.egress ?? []) for (const peer of rule.to ?? []) connect(ns, peerPlace(peer), rule);
  }
  const lines = ["```mermaid", "flowchart LR"];
  // Each namespace a subgraph; its workloads share nodes (one per line of `<br/>`-joined names), as
  // few as keep every line within the README's 120 characters.
  for (const [role, ns] of Object.entries(roles)) {
    lines.push(`  subgraph ${id(ns)}["${role}: ${ns}"]`);
    const items = (members.get(ns) ?? []).sort();
    if (items.length === 0) items.push("(policies and quota only)");
    const chunks: string[][] = [];
    for (const item of items) {
      const last = chunks.at(-1);
      const line = (names: string[]) => `    ${id(ns)}_${chunks.length}["${names.join("<br/>")}"]`;
      if (last && line([...last, item]).length <= 120) last.push(item);
      else chunks.push([item]);
    }
    chunks.forEach((names, i) => lines.push(`    ${id(ns)}_${i}["${names.join("<br/>")}"]`));
    lines.push("  end");
  }
  lines.push(`  ${OUTSIDE}(["outside the cluster: users, API server, Vault, object store, receivers"])`);
  const sortPorts = (ports: Set<string>) => [...ports].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  for (const [pair, ports] of [...edges.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const [from, to] = pair.split("\n") as [string, string];
    lines.push(`  ${id(from)} -->|"${sortPorts(ports).join(", ")}"| ${id(to)}`);
  }
  lines.push("```");
  return lines.join("\n");
}
