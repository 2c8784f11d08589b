/**
 * Pods and Services that operators create from custom resources, which no manifest shows: their
 * labels and named ports as each operator documents them. The one place that knows them; each
 * entry names its source. A CR's own pod labels (podMetadata, inheritedMetadata) are added.
 */
import type { KubeObject } from "../../lib/placed";
import type { ContainerPort, Pod } from "./analyzer";

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form custom resources

export interface OperatorService {
  namespace: string;
  name: string;
  /** Undefined for a Service whose endpoints are not pods. */
  selector?: Record<string, string> | undefined;
  ports: { name?: string; port: number; targetPort: number | string; protocol: ContainerPort["protocol"] }[];
}

export interface Operated {
  pods: Pod[];
  services: OperatorService[];
  /** ServiceAccounts the pods run as (namespace/name). */
  serviceAccounts: Map<string, string>;
  /** Pods that talk to the API server by the operator's design. */
  apiClients: Set<string>;
  /** Objects the operator creates from the resource (e.g. CloudNativePG's PodMonitor). */
  objects: { object: KubeObject; namespace: string }[];
}

const tcp = (name: string, port: number): ContainerPort => ({ name, port, protocol: "TCP" });

interface OperatorEntry {
  /** apiVersion group and kind of the custom resource. */
  group: string;
  kind: string;
  source: string;
  /** Its pods call the API server (service discovery, the instance manager). */
  apiClient: boolean;
  /** The pods (one entry stands for all replicas), their Services and ServiceAccount. */
  make(
    cr: KubeObject,
    namespace: string,
  ): {
    pods: { id: string; labels: Record<string, string>; ports: ContainerPort[] }[];
    services: Omit<OperatorService, "namespace">[];
    serviceAccount?: string;
    objects?: KubeObject[];
  };
}

const spec = (cr: KubeObject): Spec => (cr["spec"] ?? {}) as Spec;

export const OPERATORS: OperatorEntry[] = [
  {
    group: "monitoring.coreos.com",
    kind: "Prometheus",
    // https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.Prometheus and
    // pkg/prometheus/server/statefulset.go: labels, the "web" port 9090, the governing Service.
    source: "https://github.com/prometheus-operator/prometheus-operator/blob/main/pkg/prometheus/server/statefulset.go",
    apiClient: true,
    make: (cr) => {
      const name = cr.metadata.name;
      const selector = {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/instance": name,
        prometheus: name,
        "operator.prometheus.io/name": name,
      };
      return {
        pods: [
          {
            id: `prometheus-${name}`,
            labels: { ...spec(cr)["podMetadata"]?.labels, ...selector, "operator.prometheus.io/shard": "0" },
            ports: [tcp("web", 9090), tcp("reloader-web", 8080)],
          },
        ],
        services: [
          {
            name: "prometheus-operated",
            selector: { "app.kubernetes.io/name": "prometheus" },
            ports: [{ name: "web", port: 9090, targetPort: "web", protocol: "TCP" }],
          },
        ],
        serviceAccount: spec(cr)["serviceAccountName"] ?? "default",
      };
    },
  },
  {
    group: "monitoring.coreos.com",
    kind: "Alertmanager",
    source: "https://github.com/prometheus-operator/prometheus-operator/blob/main/pkg/alertmanager/statefulset.go",
    apiClient: false,
    make: (cr) => {
      const name = cr.metadata.name;
      const selector = {
        "app.kubernetes.io/name": "alertmanager",
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "app.kubernetes.io/instance": name,
        alertmanager: name,
      };
      return {
        pods: [
          {
            id: `alertmanager-${name}`,
            labels: { ...spec(cr)["podMetadata"]?.labels, ...selector },
            ports: [
              tcp("web", 9093),
              tcp("mesh-tcp", 9094),
              { name: "mesh-udp", port: 9094, protocol: "UDP" },
              tcp("reloader-web", 8080),
            ],
          },
        ],
        services: [
          {
            name: "alertmanager-operated",
            selector: { "app.kubernetes.io/name": "alertmanager" },
            ports: [{ name: "web", port: 9093, targetPort: "web", protocol: "TCP" }],
          },
        ],
        serviceAccount: spec(cr)["serviceAccountName"] ?? "default",
      };
    },
  },
  {
    group: "postgresql.cnpg.io",
    kind: "Cluster",
    // https://cloudnative-pg.io/documentation/current/labels_annotations/ (cnpg.io/cluster,
    // cnpg.io/instanceRole, cnpg.io/podRole), .../service_management/ (-rw, -ro, -r on 5432),
    // .../monitoring/ (the "metrics" port 9187); each instance manager talks to the API server.
    source: "https://cloudnative-pg.io/documentation/current/labels_annotations/",
    apiClient: true,
    make: (cr) => {
      const name = cr.metadata.name;
      const inherited = spec(cr)["inheritedMetadata"]?.labels ?? {};
      const base = { ...inherited, "cnpg.io/cluster": name, "cnpg.io/podRole": "instance" };
      const ports = [tcp("postgresql", 5432), tcp("metrics", 9187), tcp("status", 8000)];
      const pg = (role: string) => ({
        selector: { "cnpg.io/cluster": name, ...(role ? { "cnpg.io/instanceRole": role } : {}) },
      });
      const svc = (suffix: string, role: string) => ({
        name: `${name}-${suffix}`,
        ...pg(role),
        ports: [{ name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" as const }],
      });
      return {
        pods: [
          { id: `${name}-primary`, labels: { ...base, "cnpg.io/instanceRole": "primary", role: "primary" }, ports },
          { id: `${name}-replica`, labels: { ...base, "cnpg.io/instanceRole": "replica", role: "replica" }, ports },
        ],
        services: [svc("rw", "primary"), svc("ro", "replica"), svc("r", "")],
        serviceAccount: name,
        // .../monitoring/: with enablePodMonitor, a PodMonitor named after the cluster on "metrics".
        objects: spec(cr)["monitoring"]?.enablePodMonitor
          ? [
              {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PodMonitor",
                metadata: { name, labels: { "cnpg.io/cluster": name } },
                spec: {
                  selector: { matchLabels: { "cnpg.io/cluster": name, "cnpg.io/podRole": "instance" } },
                  podMetricsEndpoints: [{ port: "metrics" }],
                },
              },
            ]
          : [],
      };
    },
  },
  {
    group: "opentelemetry.io",
    kind: "OpenTelemetryCollector",
    // internal/manifests/manifestutils/labels.go: the selector labels; the Service <name>-collector
    // has the receivers' ports, <name>-collector-monitoring the collector's own metrics (8888).
    source:
      "https://github.com/open-telemetry/opentelemetry-operator/blob/main/internal/manifests/manifestutils/labels.go",
    apiClient: false,
    make: (cr, namespace) => {
      const name = cr.metadata.name;
      const selector = {
        "app.kubernetes.io/managed-by": "opentelemetry-operator",
        "app.kubernetes.io/instance": `${namespace}.${name}`,
        "app.kubernetes.io/part-of": "opentelemetry",
        "app.kubernetes.io/component": "opentelemetry-collector",
      };
      const receivers = [tcp("otlp-grpc", 4317), tcp("otlp-http", 4318)];
      return {
        pods: [
          {
            id: `${name}-collector`,
            labels: { ...spec(cr)["podLabels"], ...selector, "app.kubernetes.io/name": `${name}-collector` },
            ports: [...receivers, tcp("metrics", 8888)],
          },
        ],
        services: [
          {
            name: `${name}-collector`,
            selector,
            ports: receivers.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: "TCP" as const })),
          },
          {
            name: `${name}-collector-monitoring`,
            selector,
            ports: [{ name: "monitoring", port: 8888, targetPort: 8888, protocol: "TCP" }],
          },
        ],
        serviceAccount: spec(cr)["serviceAccount"] ?? `${name}-collector`,
      };
    },
  },
];

/** Envoy Gateway's proxies for a Gateway, in the controller's namespace (its default deployment mode). */
export const ENVOY_PROXY = {
  // https://gateway.envoyproxy.io/docs/tasks/operations/deployment-mode/ and the proxy's labels in
  // internal/infrastructure/kubernetes/proxy/resource.go; privileged listener ports are shifted by
  // 10000 (80 → 10080, 443 → 10443); Envoy's admin/metrics listener serves "metrics" on 19001.
  source: "https://github.com/envoyproxy/gateway/blob/main/internal/infrastructure/kubernetes/proxy/resource.go",
  pod(gateway: KubeObject, gatewayNamespace: string, controllerNamespace: string): Pod {
    const listeners = ((gateway["spec"] as Spec | undefined)?.["listeners"] ?? []) as { name: string; port: number }[];
    return {
      id: `${controllerNamespace}/envoy-${gatewayNamespace}-${gateway.metadata.name}`,
      namespace: controllerNamespace,
      labels: {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "app.kubernetes.io/managed-by": "envoy-gateway",
        "gateway.envoyproxy.io/owning-gateway-name": gateway.metadata.name,
        "gateway.envoyproxy.io/owning-gateway-namespace": gatewayNamespace,
      },
      ports: [...listeners.map((l) => tcp(l.name, l.port < 1024 ? l.port + 10000 : l.port)), tcp("metrics", 19001)],
    };
  },
};

/** The pods, Services and ServiceAccounts operators make from the custom resources given. */
export function operated(objects: { object: KubeObject; namespace: string }[]): Operated {
  const result: Operated = { pods: [], services: [], serviceAccounts: new Map(), apiClients: new Set(), objects: [] };
  for (const { object, namespace } of objects) {
    const group = object.apiVersion.split("/")[0];
    const entry = OPERATORS.find((o) => o.group === group && o.kind === object.kind);
    if (!entry) continue;
    const made = entry.make(object, namespace);
    for (const p of made.pods) {
      const id = `${namespace}/${p.id}`;
      result.pods.push({ id, namespace, labels: p.labels, ports: p.ports });
      if (made.serviceAccount) result.serviceAccounts.set(id, `${namespace}/${made.serviceAccount}`);
      if (entry.apiClient) result.apiClients.add(id);
    }
    for (const s of made.services) result.services.push({ ...s, namespace });
    for (const o of made.objects ?? []) result.objects.push({ object: o, namespace });
  }
  return result;
}
