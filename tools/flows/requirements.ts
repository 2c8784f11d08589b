/**
 * The flows the platform needs, derived from the objects themselves: Prometheus → every endpoint a
 * ServiceMonitor or PodMonitor it selects names; the API server → every webhook, APIService and
 * conversion webhook; the services' calls and data (the service catalogue, addressed by the
 * application's ConfigMap); pods with API rights → the API server; every pod → the cluster DNS;
 * log shippers, secret stores, backups, receivers, ACME and its HTTP-01 self-check, and Falco's
 * artifacts → their addresses outside, by purpose (`doc-rag:egress`).
 */
import { CALLS, DATA_USE, DOC_RAG_SERVICES, type DocRagService } from "../../components/services";
import { typeToken, type KubernetesProps } from "../../policies/lib/kubernetes";
import { podTemplateOf } from "../../policies/lib/podTemplate";
import type { KubeObject } from "../../lib/placed";
import { selects, type LabelSelector, type Peer, type Pod, type Protocol } from "./analyzer";
import { endpointsOf, type FlowModel, type Outside, type Service } from "./model";

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form manifests

export interface Requirement {
  /** What kind of need: scrape, webhook, call, dns, api-server, egress. */
  kind: string;
  /** The object that implies it, e.g. ServiceMonitor monitoring/doc-rag-api. */
  why: string;
  from: Peer;
  to: Peer;
  port: number;
  protocol: Protocol;
}

export interface Problem {
  level: "error" | "advisory";
  message: string;
}

export const peerId = (peer: Peer): string => ("pod" in peer ? peer.pod.id : `outside:${peer.external.id}`);

const spec = (o: KubeObject): Spec => (o["spec"] ?? {}) as Spec;
const where = (o: KubeObject, namespace: string) => `${o.kind} ${namespace}/${o.metadata.name}`;

export function requiredFlows(model: FlowModel): { required: Requirement[]; problems: Problem[] } {
  const required: Requirement[] = [];
  const problems: Problem[] = [];
  /** A missing object is an error where the objects are complete (no chart renders into the namespace). */
  const missing = (namespace: string, message: string) =>
    problems.push({ level: model.chartNamespaces.has(namespace) && model.partial ? "advisory" : "error", message });
  const need = (kind: string, why: string, from: Peer, to: Peer, port: number, protocol: Protocol = "TCP") =>
    required.push({ kind, why, from, to, port, protocol });
  const toOutside = (kind: string, why: string, pods: Pod[], outside: Outside) => {
    for (const pod of pods) for (const port of outside.ports) need(kind, why, { pod }, { external: outside }, port);
  };
  const service = (namespace: string, name: string) =>
    model.services.find((s) => s.namespace === namespace && s.name === name);
  const objects = (kind: string, group?: string) =>
    model.placed.filter((p) => p.object.kind === kind && (!group || p.object.apiVersion.startsWith(`${group}/`)));
  const podsOf = (pred: (o: KubeObject) => boolean) =>
    model.pods.filter((p) => {
      const w = model.workloads.get(p.id);
      return w && pred(w.object);
    });
  const podSpec = (o: KubeObject): Spec =>
    (podTemplateOf(typeToken(o.apiVersion, o.kind), o as KubernetesProps)?.spec ?? {}) as Spec;
  const containers = (o: KubeObject): Spec[] => (podSpec(o)["containers"] ?? []) as Spec[];
  const initContainers = (o: KubeObject): Spec[] => (podSpec(o)["initContainers"] ?? []) as Spec[];

  const image = (pattern: RegExp) => (o: KubeObject) => containers(o).some((c) => pattern.test(String(c["image"])));
  const args = (o: KubeObject) =>
    containers(o).flatMap((c) => [...(c["args"] ?? []), ...(c["command"] ?? [])] as string[]);

  // Prometheus → what each selected ServiceMonitor and PodMonitor names. A nil selector selects no
  // monitor; a nil namespace selector means the Prometheus's own namespace (the operator's API).
  const prometheuses = objects("Prometheus", "monitoring.coreos.com").map((p) => ({
    ...p,
    pods: model.pods.filter((pod) => pod.id === `${p.namespace}/prometheus-${p.object.metadata.name}`),
  }));
  if (!prometheuses.length && (objects("ServiceMonitor").length || objects("PodMonitor").length) && model.partial)
    problems.push({
      level: "advisory",
      message: "no Prometheus among the objects: scrapes are checked by the render gate",
    });
  const scrapers = (monitor: KubeObject, namespace: string, kind: "serviceMonitor" | "podMonitor") =>
    prometheuses
      .filter(({ object, namespace: promNs }) => {
        const s = spec(object);
        const selector = s[`${kind}Selector`] as LabelSelector | undefined;
        const nsSelector = s[`${kind}NamespaceSelector`] as LabelSelector | undefined;
        return (
          selector !== undefined &&
          selector !== null &&
          selects(selector, monitor.metadata.labels ?? {}) &&
          (nsSelector ? selects(nsSelector, model.namespaces.get(namespace) ?? {}) : namespace === promNs)
        );
      })
      .flatMap((p) => p.pods);
  const monitorNamespaces = (monitor: KubeObject, namespace: string): string[] => {
    const sel = spec(monitor)["namespaceSelector"] as { any?: boolean; matchNames?: string[] } | undefined;
    if (sel?.any) return [...model.namespaces.keys()];
    return sel?.matchNames?.length ? sel.matchNames : [namespace];
  };

  for (const { object, namespace } of objects("ServiceMonitor", "monitoring.coreos.com")) {
    const s = spec(object);
    const namespaces = monitorNamespaces(object, namespace);
    const selected = model.services.filter(
      (svc) => namespaces.includes(svc.namespace) && selects(s["selector"] ?? {}, svc.labels),
    );
    if (!selected.length) {
      missing(
        namespaces[0] ?? namespace,
        `${where(object, namespace)} selects no Service (in ${namespaces.join(", ")})`,
      );
      continue;
    }
    const from = scrapers(object, namespace, "serviceMonitor");
    for (const endpoint of (s["endpoints"] ?? []) as Spec[]) {
      for (const svc of selected) {
        const ports = svc.ports.filter((p) =>
          endpoint["port"] !== undefined
            ? p.name === endpoint["port"]
            : String(p.targetPort) === String(endpoint["targetPort"]),
        );
        for (const p of ports)
          for (const target of endpointsOf(model, svc, p))
            for (const pod of from) need("scrape", where(object, namespace), { pod }, target.peer, target.port);
      }
    }
  }
  for (const { object, namespace } of objects("PodMonitor", "monitoring.coreos.com")) {
    const s = spec(object);
    const namespaces = monitorNamespaces(object, namespace);
    const targets = model.pods.filter(
      (p) => namespaces.includes(p.namespace) && !p.hostNetwork && selects(s["selector"] ?? {}, p.labels),
    );
    if (!targets.length) {
      missing(namespaces[0] ?? namespace, `${where(object, namespace)} selects no pod (in ${namespaces.join(", ")})`);
      continue;
    }
    const from = scrapers(object, namespace, "podMonitor");
    for (const endpoint of (s["podMetricsEndpoints"] ?? []) as Spec[])
      for (const pod of targets) {
        const port =
          endpoint["portNumber"] ?? pod.ports.find((c) => c.name === endpoint["port"] && c.protocol === "TCP")?.port;
        if (port === undefined) continue;
        for (const scraper of from) need("scrape", where(object, namespace), { pod: scraper }, { pod }, Number(port));
      }
  }

  // The API server → each webhook's, APIService's and conversion webhook's Service.
  const apiServer: Peer = { external: model.outside.kubernetesApi };
  const callService = (why: string, ref: { namespace: string; name: string; port?: number } | undefined) => {
    if (!ref) return;
    const svc = service(ref.namespace, ref.name);
    if (!svc) {
      missing(ref.namespace, `${why} calls Service ${ref.namespace}/${ref.name}, which nothing creates`);
      return;
    }
    for (const p of svc.ports.filter((x) => x.port === (ref.port ?? 443)))
      for (const target of endpointsOf(model, svc, p)) need("webhook", why, apiServer, target.peer, target.port);
  };
  for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"])
    for (const { object, namespace } of objects(kind, "admissionregistration.k8s.io"))
      for (const webhook of (object["webhooks"] ?? []) as Spec[])
        callService(where(object, namespace).replace(/ \//, " "), webhook["clientConfig"]?.service);
  for (const { object } of objects("APIService", "apiregistration.k8s.io"))
    callService(`APIService ${object.metadata.name}`, spec(object)["service"]);
  for (const { object } of objects("CustomResourceDefinition", "apiextensions.k8s.io"))
    callService(`CRD ${object.metadata.name} conversion`, spec(object)["conversion"]?.webhook?.clientConfig?.service);

  /** The Service a URL (or host and port) names: name.namespace.svc…, or a bare name in `namespace`. */
  const serviceAt = (value: string | undefined, namespace: string, port?: string) => {
    if (!value) return undefined;
    const url = /^[a-z]+:\/\//.test(value) ? new URL(value) : new URL(`tcp://${value}${port ? `:${port}` : ""}`);
    const [name = "", ns] = url.hostname.split(".");
    return { name, namespace: ns ?? namespace, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)) };
  };
  /** Pods → the endpoints of the Service at an address. */
  const reach = (kind: string, why: string, from: Pod[], to: ReturnType<typeof serviceAt>) => {
    if (!to) return;
    const svc = service(to.namespace, to.name);
    if (!svc) {
      missing(to.namespace, `${why}: Service ${to.namespace}/${to.name} does not exist`);
      return;
    }
    for (const p of svc.ports.filter((x) => x.port === to.port))
      for (const target of endpointsOf(model, svc, p))
        for (const pod of from) need(kind, why, { pod }, target.peer, target.port);
  };

  // The services' calls and data, by the catalogue, addressed as the application's ConfigMap says.
  for (const { object, namespace } of objects("ConfigMap").filter((p) => p.object.metadata.name === "doc-rag-config")) {
    const data = (object["data"] ?? {}) as Record<string, string>;
    const callers = (svc: DocRagService) =>
      model.pods.filter(
        (p) =>
          p.namespace === namespace &&
          p.labels["app.kubernetes.io/name"] === svc &&
          p.labels["app.kubernetes.io/part-of"] === "doc-rag",
      );
    const at = (key: string, port?: string) => serviceAt(data[key], namespace, port);
    const DATA_KEYS = {
      postgres: at("DATABASE_HOST", data["DATABASE_PORT"]),
      valkey: at("REDIS_URL"),
      qdrant: at("QDRANT_URL"),
    };
    const why = (caller: string, key: string) => `${caller} → ${key} (ConfigMap ${namespace}/doc-rag-config)`;
    for (const caller of DOC_RAG_SERVICES) {
      for (const callee of CALLS[caller]) {
        const key = `${callee.toUpperCase().replace(/-/g, "_")}_URL`;
        reach("call", why(caller, key), callers(caller), at(key));
      }
      for (const d of DATA_USE[caller]) reach("data", why(caller, d), callers(caller), DATA_KEYS[d]);
      const otlp = "OTEL_EXPORTER_OTLP_ENDPOINT";
      reach("traces", why(caller, otlp), callers(caller), at(otlp));
    }
  }

  // The Gateway's proxies → each HTTPRoute's backends.
  for (const { object, namespace } of objects("HTTPRoute", "gateway.networking.k8s.io")) {
    const s = spec(object);
    const proxies = model.pods.filter((p) =>
      ((s["parentRefs"] ?? []) as Spec[]).some(
        (ref) =>
          p.labels["gateway.envoyproxy.io/owning-gateway-name"] === ref["name"] &&
          p.labels["gateway.envoyproxy.io/owning-gateway-namespace"] === (ref["namespace"] ?? namespace),
      ),
    );
    for (const rule of (s["rules"] ?? []) as Spec[])
      for (const backend of (rule["backendRefs"] ?? []) as Spec[])
        reach("route", where(object, namespace), proxies, {
          name: backend["name"],
          namespace: backend["namespace"] ?? namespace,
          port: Number(backend["port"]),
        });
  }

  // A collector → where its exporters send (an OTLP endpoint is host:port).
  for (const { object, namespace } of objects("OpenTelemetryCollector", "opentelemetry.io")) {
    const config = spec(object)["config"] as Spec | undefined;
    const from = model.pods.filter((p) => p.id === `${namespace}/${object.metadata.name}-collector`);
    for (const [name, exporter] of Object.entries((config?.["exporters"] ?? {}) as Record<string, Spec>))
      if (typeof exporter?.["endpoint"] === "string")
        reach(
          "traces",
          `${where(object, namespace)} exporter ${name}`,
          from,
          serviceAt(exporter["endpoint"], namespace),
        );
  }

  // Whoever queries Prometheus: Argo Rollouts' analyses, and pods told its URL (prometheus-adapter).
  const rolloutsControllers = podsOf(image(/argoproj\/argo-rollouts/));
  for (const { object, namespace } of [...objects("AnalysisTemplate"), ...objects("ClusterAnalysisTemplate")])
    for (const metric of (spec(object)["metrics"] ?? []) as Spec[])
      reach(
        "query",
        where(object, namespace),
        rolloutsControllers,
        serviceAt(metric["provider"]?.prometheus?.address, namespace),
      );
  for (const pod of model.pods) {
    const w = model.workloads.get(pod.id);
    const url = w && args(w.object).find((a) => a.startsWith("--prometheus-url="));
    if (url)
      reach(
        "query",
        `${pod.id} --prometheus-url`,
        [pod],
        serviceAt(url.slice("--prometheus-url=".length), pod.namespace),
      );
  }

  // Every pod on the pod network, in a namespace the platform creates → the cluster DNS.
  const owned = new Set(objects("Namespace").map((p) => p.object.metadata.name));
  const dns = model.pods.filter((p) => p.id.endsWith("/cluster-dns"));
  for (const pod of model.pods.filter((p) => owned.has(p.namespace) && !p.hostNetwork))
    for (const target of dns)
      for (const protocol of ["UDP", "TCP"] as const)
        need("dns", "cluster DNS", { pod }, { pod: target }, 53, protocol);

  // Pods whose ServiceAccount holds API rights (a RoleBinding or ClusterRoleBinding names it, or an
  // operator's documented pods) → the API server.
  const bound = new Set(
    [...objects("RoleBinding"), ...objects("ClusterRoleBinding")].flatMap(({ object, namespace }) =>
      ((object["subjects"] ?? []) as Spec[])
        .filter((s) => s["kind"] === "ServiceAccount")
        .map((s) => `${s["namespace"] ?? namespace}/${s["name"]}`),
    ),
  );
  const withRights = model.pods.filter(
    (p) => !p.hostNetwork && (bound.has(model.serviceAccounts.get(p.id) ?? "") || model.apiClients.has(p.id)),
  );
  toOutside("api-server", "RBAC of its ServiceAccount", withRights, model.outside.kubernetesApi);

  // Addresses outside, by what the objects say reaches them.
  for (const { object, namespace } of [...objects("SecretStore"), ...objects("ClusterSecretStore")]) {
    if (!spec(object)["provider"]?.vault) continue;
    const controllers = podsOf(
      (o) =>
        image(/external-secrets\/external-secrets/)(o) &&
        !args(o).some((a) => a === "webhook" || a === "certcontroller"),
    );
    toOutside("egress", `${where(object, namespace)} (Vault)`, controllers, model.outside.vault);
  }
  for (const { object, namespace } of [...objects("ClusterIssuer"), ...objects("Issuer")]) {
    const acme = spec(object)["acme"] as Spec | undefined;
    if (!acme) continue;
    const controllers = podsOf(image(/cert-manager-controller/));
    toOutside("egress", `${where(object, namespace)} (ACME account)`, controllers, model.outside.acme);
    // HTTP-01, for an issuer a Gateway's certificate uses: before asking the ACME server, cert-manager
    // fetches the challenge itself from the Gateway's public address on port 80 (the self-check);
    // where the cluster routes that address inside (kube-proxy does), it reaches the proxies' pods.
    const annotation = `cert-manager.io/${object.kind === "Issuer" ? "issuer" : "cluster-issuer"}`;
    const used = model.placed.some(
      ({ object: o }) =>
        o.metadata.annotations?.[annotation] === object.metadata.name ||
        (o.kind === "Certificate" && spec(o)["issuerRef"]?.name === object.metadata.name),
    );
    const why = `${where(object, namespace)} (HTTP-01 self-check)`;
    for (const solver of ((acme["solvers"] ?? []) as Spec[]).filter((s) => s["http01"] && used)) {
      toOutside("egress", why, controllers, model.outside.gatewayAddress);
      for (const ref of (solver["http01"]?.gatewayHTTPRoute?.parentRefs ?? []) as Spec[]) {
        const gateway = objects("Gateway", "gateway.networking.k8s.io").find(
          (g) => g.object.metadata.name === ref["name"] && g.namespace === (ref["namespace"] ?? namespace),
        );
        if (!gateway) continue;
        const listener = ((spec(gateway.object)["listeners"] ?? []) as Spec[]).find(
          (l) => l["name"] === ref["sectionName"],
        );
        const proxies = model.pods.filter(
          (p) => p.labels["gateway.envoyproxy.io/owning-gateway-name"] === gateway.object.metadata.name,
        );
        for (const proxy of proxies)
          for (const port of proxy.ports.filter((c) => c.name === listener?.["name"]))
            for (const pod of controllers) need("egress", why, { pod }, { pod: proxy }, port.port);
      }
    }
  }
  for (const { object, namespace } of objects("Alertmanager", "monitoring.coreos.com")) {
    const pods = model.pods.filter((p) => p.id === `${namespace}/alertmanager-${object.metadata.name}`);
    toOutside("egress", `${where(object, namespace)} (receivers)`, pods, model.outside.alerting);
  }
  for (const { object, namespace } of objects("ConfigMap")) {
    const text = Object.values((object["data"] ?? {}) as Record<string, string>).join("\n");
    if (!/\[OUTPUT\][^[]*Name\s+(opensearch|es)\b/i.test(text)) continue;
    const shippers = podsOf((o) =>
      ((podSpec(o)["volumes"] ?? []) as Spec[]).some((v) => v["configMap"]?.name === object.metadata.name),
    ).filter((p) => p.namespace === namespace);
    toOutside("egress", `${where(object, namespace)} (log output)`, shippers, model.outside.logs);
  }
  // CloudNativePG: the operator asks each instance manager for its status (8000); instances stream
  // WAL from the primary, and any of them may become it (5432 among instances); backups go to the
  // object store.
  for (const { object, namespace } of objects("Cluster", "postgresql.cnpg.io")) {
    const why = where(object, namespace);
    const instances = model.pods.filter(
      (p) => p.namespace === namespace && p.labels["cnpg.io/cluster"] === object.metadata.name,
    );
    if (spec(object)["backup"]?.barmanObjectStore)
      toOutside("egress", `${why} (backups)`, instances, model.outside.objectStore);
    for (const operator of podsOf(image(/cloudnative-pg\/cloudnative-pg/)))
      for (const pod of instances) need("operator", `${why} (instance status)`, { pod: operator }, { pod }, 8000);
    if (Number(spec(object)["instances"] ?? 1) > 1)
      for (const a of instances)
        for (const b of instances) if (a !== b) need("replication", why, { pod: a }, { pod: b }, 5432);
  }

  // The Gateway's users → its proxies, on every listener.
  for (const proxy of model.pods.filter(
    (p) => p.labels["app.kubernetes.io/component"] === "proxy" && p.labels["gateway.envoyproxy.io/owning-gateway-name"],
  ))
    for (const port of proxy.ports.filter((c) => c.name !== "metrics"))
      need(
        "users",
        `Gateway ${proxy.labels["gateway.envoyproxy.io/owning-gateway-namespace"]}/${proxy.labels["gateway.envoyproxy.io/owning-gateway-name"]}`,
        { external: model.users },
        { pod: proxy },
        port.port,
      );

  // What pods fetch at run time, each from the address its own purpose names.
  const falcoctl = podsOf((o) =>
    [...containers(o), ...initContainers(o)].some((c) => String(c["name"]).startsWith("falcoctl-artifact-")),
  );
  toOutside("egress", "falcoctl artifact install and follow", falcoctl, model.outside.artifacts);
  // The chart names the controller's container argo-rollouts (its dashboard's is argo-rollouts-dashboard).
  const rollouts = podsOf((o) => containers(o).some((c) => c["name"] === "argo-rollouts"));
  toOutside("egress", "Argo Rollouts traffic-router plugin download", rollouts, model.outside.rolloutsPlugin);

  return { required: dedupe(required), problems };
}

function dedupe(required: Requirement[]): Requirement[] {
  const seen = new Map<string, Requirement>();
  for (const r of required) {
    const key = `${peerId(r.from)} ${peerId(r.to)} ${r.port}/${r.protocol}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}

export type { Service };
