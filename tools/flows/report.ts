/**
 * Every required flow judged by the analyzer, the problems the requirements found (a monitor that
 * selects nothing, a webhook's missing Service), and the allowed flows no requirement explains, per
 * namespace; as render-gate findings, a text matrix and a Graphviz DOT picture.
 */
import { parseConfig } from "../../components/config";
import { applyOverrides, readStackConfig } from "../../lib/stackConfig";
import type { Finding } from "../renderChecks";
import { evaluate, type External, type Flow, type Peer, type Protocol } from "./analyzer";
import type { FlowModel, ModelConfig } from "./model";
import { peerId, requiredFlows, type Problem } from "./requirements";

export interface JudgedFlow {
  kind: string;
  why: string;
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  allowed: boolean;
  /** The policies that allow each side; "open" where no policy isolates that side. */
  egress: string[] | "open" | "n/a";
  ingress: string[] | "open" | "n/a";
}

export interface FlowReport {
  /** Only the program's own objects: the charts were not rendered. */
  partial: boolean;
  required: JudgedFlow[];
  problems: Problem[];
  /** Allowed flows that no requirement explains, by the destination's namespace (or "outside"). */
  unexplained: Record<string, string[]>;
  /** namespace → pod ids, and the outside peers, for the picture. */
  nodes: { namespaces: Record<string, string[]>; outside: string[] };
}

function judge(model: FlowModel, flow: Flow): Pick<JudgedFlow, "allowed" | "egress" | "ingress"> {
  const v = evaluate(model, flow);
  const side = (s: typeof v.egress) => (!s ? "n/a" : !s.isolated ? "open" : s.allowedBy);
  return { allowed: v.allowed, egress: side(v.egress), ingress: side(v.ingress) };
}

export function analyzeFlows(model: FlowModel): FlowReport {
  const { required, problems } = requiredFlows(model);
  const judged = required.map((r) => ({
    kind: r.kind,
    why: r.why,
    from: peerId(r.from),
    to: peerId(r.to),
    port: r.port,
    protocol: r.protocol,
    ...judge(model, r),
  }));

  // Every pod and outside address to every port a pod declares, and to every outside address's
  // ports: an allowed flow that some policy opens on purpose (an isolated side) and no requirement
  // needs. Purposes that share an address (by default all: any address) are one peer, named by all.
  const outside = [...Object.values(model.outside), model.users];
  const byAddress = new Map<string, { external: External; ports: Set<number> }>();
  for (const o of outside) {
    const seen = byAddress.get(o.address);
    const ports = "ports" in o ? (o as { ports: number[] }).ports : [];
    if (seen) {
      seen.external = { ...seen.external, id: `${seen.external.id}/${o.id}` };
      ports.forEach((p) => seen.ports.add(p));
    } else byAddress.set(o.address, { external: { ...o }, ports: new Set(ports) });
  }
  const sources: Peer[] = [
    ...model.pods.filter((p) => !p.hostNetwork).map((pod) => ({ pod })),
    ...[...byAddress.values()].map(({ external }) => ({ external })),
  ];
  const destinations: { peer: Peer; port: number; protocol: Protocol }[] = [
    ...model.pods
      .filter((p) => !p.hostNetwork)
      .flatMap((pod) => pod.ports.map((c) => ({ peer: { pod } as Peer, port: c.port, protocol: c.protocol }))),
    ...[...byAddress.values()].flatMap(({ external, ports }) =>
      [...ports].map((port) => ({ peer: { external } as Peer, port, protocol: "TCP" as Protocol })),
    ),
  ];
  // A requirement explains a flow between the same ends; on any purpose at an address, a flow to
  // or from that address.
  const addressOf = new Map(outside.map((o) => [`outside:${o.id}`, o.address]));
  const normal = (id: string) => (addressOf.has(id) ? `address:${addressOf.get(id)}` : id);
  const neededByAddress = new Set(judged.map((f) => `${normal(f.from)} ${normal(f.to)} ${f.port}/${f.protocol}`));
  const unexplained: Record<string, string[]> = {};
  for (const from of sources) {
    for (const to of destinations) {
      if ("external" in from && "external" in to.peer) continue;
      if (peerId(from) === peerId(to.peer)) continue;
      const fromAddress = "external" in from ? `address:${from.external.address}` : peerId(from);
      const toAddress = "external" in to.peer ? `address:${to.peer.external.address}` : peerId(to.peer);
      if (neededByAddress.has(`${fromAddress} ${toAddress} ${to.port}/${to.protocol}`)) continue;
      const v = evaluate(model, { from, to: to.peer, port: to.port, protocol: to.protocol });
      const explicit = [v.egress, v.ingress].some((s) => s?.isolated && s.allowedBy.length);
      if (!v.allowed || !explicit) continue;
      const ns = "pod" in to.peer ? to.peer.pod.namespace : "outside";
      const by = [...(v.egress?.allowedBy ?? []), ...(v.ingress?.allowedBy ?? [])];
      (unexplained[ns] ??= []).push(
        `${peerId(from)} → ${peerId(to.peer)}:${to.port}/${to.protocol} (${by.join(", ")})`,
      );
    }
  }
  const namespaces: Record<string, string[]> = {};
  for (const pod of model.pods) (namespaces[pod.namespace] ??= []).push(pod.id);
  return {
    partial: model.partial,
    required: judged,
    problems,
    unexplained,
    nodes: {
      namespaces,
      outside: [
        ...new Set([...outside, ...[...byAddress.values()].map((a) => a.external)].map((o) => `outside:${o.id}`)),
      ],
    },
  };
}

/** Render-gate findings: a blocked flow or a problem fails the gate; unexplained flows are advisory. */
export function flowFindings(report: FlowReport): Finding[] {
  const blocked = report.required
    .filter((f) => !f.allowed)
    .map((f): Finding => ({
      check: "flow",
      level: "error",
      message: `${f.from} → ${f.to}:${f.port}/${f.protocol} is needed (${f.kind}: ${f.why}) but ${[
        Array.isArray(f.egress) && !f.egress.length ? "no egress rule" : "",
        Array.isArray(f.ingress) && !f.ingress.length ? "no ingress rule" : "",
      ]
        .filter(Boolean)
        .join(" and ")} allows it`,
    }));
  const problems = report.problems.map((p): Finding => ({ check: "flow", level: p.level, message: p.message }));
  const unexplained = Object.entries(report.unexplained).map(([ns, flows]): Finding => ({
    check: "flow",
    level: "advisory",
    namespace: ns,
    message: `${flows.length} allowed flows no requirement explains: ${flows.slice(0, 5).join("; ")}${flows.length > 5 ? "; …" : ""}`,
  }));
  return [...blocked, ...problems, ...unexplained];
}

/** One line per required flow: source → destination:port, and the policies that allow it, or what blocks it. */
export function flowMatrix(report: FlowReport): string[] {
  const sides = (f: JudgedFlow) =>
    [
      `egress ${Array.isArray(f.egress) ? f.egress.join(", ") || "BLOCKED" : f.egress}`,
      `ingress ${Array.isArray(f.ingress) ? f.ingress.join(", ") || "BLOCKED" : f.ingress}`,
    ].join("; ");
  return [...report.required]
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port - b.port)
    .map(
      (f) =>
        `${f.allowed ? "allowed" : "BLOCKED"}  ${f.from} → ${f.to}:${f.port}/${f.protocol}  [${f.kind}] ${sides(f)}`,
    );
}

const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** Graphviz DOT: namespaces as clusters, pods inside, outside peers apart; required flows green (red if blocked), unexplained grey. */
export function flowDot(report: FlowReport, title: string): string {
  const lines = [
    `digraph ${q(title)} {`,
    "  rankdir=LR;",
    "  newrank=true;",
    "  node [shape=box, fontsize=10];",
    "  edge [fontsize=9];",
  ];
  Object.entries(report.nodes.namespaces)
    .sort(([a], [b]) => a.localeCompare(b))
    .forEach(([ns, pods], i) => {
      lines.push(`  subgraph cluster_${i} {`, `    label=${q(ns)};`);
      for (const pod of pods.sort()) lines.push(`    ${q(pod)} [label=${q(pod.slice(ns.length + 1))}];`);
      lines.push("  }");
    });
  const used = new Set([
    ...report.required.flatMap((f) => [f.from, f.to]),
    ...Object.values(report.unexplained).flatMap((flows) => flows.flatMap((f) => f.split(/ → |:\d+\//))),
  ]);
  for (const o of report.nodes.outside.filter((id) => [...used].some((u) => u === id || u.startsWith(`${id}`))))
    lines.push(`  ${q(o)} [shape=ellipse];`);
  const edges = new Map<string, { ports: Set<string>; allowed: boolean }>();
  for (const f of report.required) {
    const key = `${f.from}\n${f.to}`;
    const e = edges.get(key) ?? { ports: new Set(), allowed: true };
    e.ports.add(`${f.port}/${f.protocol}`);
    e.allowed &&= f.allowed;
    edges.set(key, e);
  }
  for (const [key, e] of edges) {
    const [from, to] = key.split("\n") as [string, string];
    const color = e.allowed ? "darkgreen" : "red";
    lines.push(
      `  ${q(from)} -> ${q(to)} [label=${q([...e.ports].join(" "))}, color=${color}${e.allowed ? "" : ", style=bold"}];`,
    );
  }
  for (const flows of Object.values(report.unexplained))
    for (const flow of flows) {
      const [, from, to, port] = /^(\S+) → (\S+?):(\d+\/\w+)/.exec(flow) ?? [];
      if (from && to && port) lines.push(`  ${q(from)} -> ${q(to)} [label=${q(port)}, color=grey, style=dashed];`);
    }
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** flows.json and flows.dot, for --out. */
export function flowFiles(stack: string, report: FlowReport): [string, string][] {
  return [
    ["flows.json", JSON.stringify(report, null, 2) + "\n"],
    ["flows.dot", flowDot(report, `flows of ${stack}`)],
  ];
}

/** The parts of a stack's config the model needs, read as the harness reads it (overrides applied). */
export function modelConfigFor(root: string, stack: string, overrides: readonly string[] = []): ModelConfig {
  const input = applyOverrides(readStackConfig(root, stack), overrides);
  const config = parseConfig(input.config, new Set(input.secretKeys), stack);
  return { egress: config.egress, clusterDns: config.clusterDns };
}
