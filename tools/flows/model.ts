/**
 * The network as NetworkPolicy sees it, built from plain objects (the plan's, and what Helm renders
 * for each release): namespaces and their labels, one pod per workload (operator-made pods from
 * tools/flows/operatorPods.ts), Services, NetworkPolicies, and the peers outside the pod network,
 * whose addresses come from the stack's `doc-rag:egress`.
 */
import type { EgressConfig } from "../../components/config";
import { typeToken, type KubernetesProps } from "../../policies/lib/kubernetes";
import { podTemplateOf } from "../../policies/lib/podTemplate";
import { isTestHook, type Placed } from "../../lib/placed";
import {
  selects,
  type ContainerPort,
  type External,
  type NetworkPolicy,
  type Peer,
  type Pod,
  type Protocol,
  type World,
} from "./analyzer";
import { ENVOY_PROXY, operated, type OperatorService } from "./operatorPods";

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form manifests

export type Service = OperatorService & {
  selector?: Record<string, string>;
  labels: Record<string, string>;
  /** A Service without a selector whose endpoints are outside the pod network (the API server, kubelets). */
  outside?: keyof EgressConfig;
};

/** What the flow model needs of the stack's config: where things outside the pod network are. */
export interface ModelConfig {
  egress: EgressConfig;
  clusterDns: { namespace: string; podLabels: Record<string, string> };
}

/** A peer outside the pod network, by the purpose `doc-rag:egress` names it with. */
export interface Outside extends External {
  purpose: keyof EgressConfig;
  ports: number[];
}

export interface FlowModel extends World {
  pods: Pod[];
  services: Service[];
  /** Pod id → the ServiceAccount it runs as (namespace/name). */
  serviceAccounts: Map<string, string>;
  /** Pod id → the workload object it stands for (undefined for operator-made pods). */
  workloads: Map<string, Placed>;
  outside: Record<keyof EgressConfig, Outside>;
  /** The Gateway's users: any address on the internet (a documentation address stands for them). */
  users: External;
  placed: Placed[];
  /** Pods an operator documents as API clients (their rights come from the operator, not a manifest). */
  apiClients: Set<string>;
  /** Namespaces some Helm release renders into: the objects given may be incomplete there. */
  chartNamespaces: Set<string>;
  /** The charts were not rendered: only the program's own objects are here. */
  partial: boolean;
}

/** An address inside a CIDR that stands for it: the network address plus one (the address of a /32). */
export function representative(cidr: string): string {
  const [net, bits] = cidr.split("/") as [string, string | undefined];
  if (net.includes(":")) return bits === "128" || !bits || !net.endsWith("::") ? net : `${net}1`;
  if (bits === "32" || bits === undefined) return net;
  const octets = net.split(".").map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join(".");
}

function containerPorts(podSpec: Spec): ContainerPort[] {
  return [...(podSpec["containers"] ?? []), ...(podSpec["initContainers"] ?? [])].flatMap((c: Spec) =>
    ((c["ports"] ?? []) as Spec[]).map((p) => ({
      ...(p["name"] ? { name: p["name"] as string } : {}),
      port: Number(p["containerPort"]),
      protocol: (p["protocol"] ?? "TCP") as Protocol,
    })),
  );
}

/**
 * The model of `placed`. Without the rendered charts (`partial`), name the namespaces releases
 * render into (`chartNamespaces`): what is missing there is left to the render gate.
 */
export function buildModel(
  placed: Placed[],
  { egress, clusterDns }: ModelConfig,
  partial: false | { chartNamespaces: string[] },
): FlowModel {
  const outside = Object.fromEntries(
    (Object.entries(egress) as [keyof EgressConfig, EgressConfig[keyof EgressConfig]][]).map(([purpose, e]) => [
      purpose,
      { id: purpose, purpose, address: representative(e.cidrs[0] ?? "0.0.0.0/0"), ports: e.ports },
    ]),
  ) as Record<keyof EgressConfig, Outside>;
  const pods: Pod[] = [];
  const serviceAccounts = new Map<string, string>();
  const workloads = new Map<string, Placed>();
  const services: Service[] = [];
  const policies: NetworkPolicy[] = [];
  const namespaces = new Map<string, Record<string, string>>();
  const ns = (name: string) => {
    if (!namespaces.has(name)) namespaces.set(name, { "kubernetes.io/metadata.name": name });
  };
  /** The Envoy Gateway controller's namespace, where it runs each Gateway's proxies. */
  let envoyControllerNamespace: string | undefined;

  for (const p of placed) {
    const { object, namespace } = p;
    if (object.kind === "Namespace") {
      namespaces.set(object.metadata.name, {
        ...object.metadata.labels,
        "kubernetes.io/metadata.name": object.metadata.name,
      });
      continue;
    }
    if (isTestHook(object)) continue;
    const s = (object["spec"] ?? {}) as Spec;
    if (object.kind === "NetworkPolicy" && object.apiVersion === "networking.k8s.io/v1") {
      policies.push({ metadata: { name: object.metadata.name, namespace }, spec: s });
      continue;
    }
    if (object.kind === "Service" && object.apiVersion === "v1" && s["type"] !== "ExternalName") {
      services.push({
        namespace,
        name: object.metadata.name,
        labels: object.metadata.labels ?? {},
        ...(s["selector"] ? { selector: s["selector"] as Record<string, string> } : { selector: undefined }),
        ports: ((s["ports"] ?? []) as Spec[]).map((port) => ({
          ...(port["name"] ? { name: port["name"] as string } : {}),
          port: Number(port["port"]),
          targetPort: (port["targetPort"] ?? port["port"]) as number | string,
          protocol: (port["protocol"] ?? "TCP") as Protocol,
        })),
      });
      continue;
    }
    const template = podTemplateOf(typeToken(object.apiVersion, object.kind), object as KubernetesProps);
    if (!template || template.kind === "PodTemplate") continue;
    const podSpec = template.spec as Spec;
    const id = `${namespace}/${object.metadata.name}`;
    pods.push({
      id,
      namespace,
      labels: {
        ...(template.metadata.labels as Record<string, string> | undefined),
        // The StatefulSet controller labels each pod with its name; the first stands for them all.
        ...(object.kind === "StatefulSet"
          ? { "statefulset.kubernetes.io/pod-name": `${object.metadata.name}-0`, "apps.kubernetes.io/pod-index": "0" }
          : {}),
      },
      ports: containerPorts(podSpec),
      ...(podSpec["hostNetwork"] ? { hostNetwork: { address: outside.nodes.address } } : {}),
    });
    workloads.set(id, p);
    if (podSpec["automountServiceAccountToken"] !== false)
      serviceAccounts.set(id, `${namespace}/${podSpec["serviceAccountName"] ?? "default"}`);
    const containers = (podSpec["containers"] ?? []) as Spec[];
    if (containers.some((c) => /envoyproxy\/gateway(:|@)/.test(String(c["image"] ?? ""))))
      envoyControllerNamespace = namespace;
    // The kubelets' Service the Prometheus Operator keeps (--kubelet-service): endpoints on the nodes.
    const [kubeletNs, kubeletName, ...rest] =
      containers
        .flatMap((c) => (c["args"] ?? []) as string[])
        .find((a) => a.startsWith("--kubelet-service="))
        ?.split("=")[1]
        ?.split("/") ?? [];
    if (kubeletNs && kubeletName && !rest.length)
      services.push({
        namespace: kubeletNs,
        name: kubeletName,
        labels: { "app.kubernetes.io/name": "kubelet", "k8s-app": "kubelet" },
        outside: "nodes",
        ports: [
          { name: "https-metrics", port: 10250, targetPort: 10250, protocol: "TCP" },
          { name: "http-metrics", port: 10255, targetPort: 10255, protocol: "TCP" },
          { name: "cadvisor", port: 4194, targetPort: 4194, protocol: "TCP" },
        ],
      });
  }

  // What every cluster has and no manifest shows: its DNS pods and the API server's Service
  // (default/kubernetes).
  pods.push({
    id: `${clusterDns.namespace}/cluster-dns`,
    namespace: clusterDns.namespace,
    labels: clusterDns.podLabels,
    ports: [
      { name: "dns", port: 53, protocol: "UDP" },
      { name: "dns-tcp", port: 53, protocol: "TCP" },
      { name: "metrics", port: 9153, protocol: "TCP" },
    ],
  });
  services.push({
    namespace: "default",
    name: "kubernetes",
    labels: { component: "apiserver", provider: "kubernetes" },
    outside: "kubernetesApi",
    ports: [{ name: "https", port: 443, targetPort: egress.kubernetesApi.ports[0] ?? 443, protocol: "TCP" }],
  });
  const made = operated(placed);
  pods.push(...made.pods);
  services.push(...made.services.map((s) => ({ ...s, labels: {} })));
  made.serviceAccounts.forEach((sa, id) => serviceAccounts.set(id, sa));
  for (const { object, namespace } of placed) {
    if (
      object.kind === "Gateway" &&
      object.apiVersion.startsWith("gateway.networking.k8s.io/") &&
      envoyControllerNamespace
    )
      pods.push(ENVOY_PROXY.pod(object, namespace, envoyControllerNamespace));
  }

  for (const p of [...pods, ...services, ...policies.map((x) => ({ namespace: x.metadata.namespace ?? "" }))])
    ns(p.namespace);
  return {
    namespaces,
    policies,
    pods,
    services,
    serviceAccounts,
    workloads,
    outside,
    users: { id: "users", address: "203.0.113.10" },
    apiClients: made.apiClients,
    placed: [...placed, ...made.objects],
    chartNamespaces: new Set([
      ...placed.filter((p) => p.release).map((p) => p.namespace),
      ...(partial ? partial.chartNamespaces : []),
    ]),
    partial: Boolean(partial),
  };
}

/** Where a Service sends to (its pods, or a peer outside), and the port number there, for one of its ports. */
export function endpointsOf(
  model: FlowModel,
  service: Service,
  port: Service["ports"][number],
): { peer: Peer; port: number }[] {
  if (service.outside) {
    const target = Number(port.targetPort);
    return Number.isNaN(target) ? [] : [{ peer: { external: model.outside[service.outside] }, port: target }];
  }
  if (!service.selector) return [];
  const selector = { matchLabels: service.selector };
  return model.pods
    .filter((p) => p.namespace === service.namespace && selects(selector, p.labels))
    .flatMap((pod) => {
      const target =
        typeof port.targetPort === "number" || /^\d+$/.test(String(port.targetPort))
          ? Number(port.targetPort)
          : pod.ports.find((c) => c.name === port.targetPort && c.protocol === port.protocol)?.port;
      return target === undefined ? [] : [{ peer: { pod }, port: target }];
    });
}
