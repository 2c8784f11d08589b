import * as assert from "node:assert/strict";
import { find, ofType, runStack, type RecordedResource, type StackRun, type Values } from "./harness";
import { runToolOn } from "./harness/tools";
import { DOC_RAG_SERVICES, type DocRagService } from "../components/services";
import { placeholderRelease } from "../components/config";

const HELM = "kubernetes:helm.sh/v3:Release";
const ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SERVICES = ["api", "chunker", "embedder", "retriever", "query-processor", "response-generator"];

const inputs = (r: RecordedResource) => r.inputs as Values;
const byName = (run: StackRun, type: string, name: string, namespace?: string) => {
  const found = ofType(run, type).find(
    (r) => inputs(r)["metadata"].name === name && (!namespace || inputs(r)["metadata"].namespace === namespace),
  );
  assert.ok(found, `no ${type} ${name} in ${run.stack}`);
  return inputs(found);
};

let runs: Record<"dev" | "staging" | "production", StackRun>;
before(async () => {
  const [dev, staging, production] = await Promise.all(["dev", "staging", "production"].map((s) => runStack(s)));
  runs = { dev: dev!, staging: staging!, production: production! };
});

describe("delivery: the services' pod template (production)", () => {
  const container = (svc: string) => byName(runs.production, ROLLOUT, svc)["spec"].template.spec.containers[0];
  const pod = (svc: string) => byName(runs.production, ROLLOUT, svc)["spec"].template.spec;

  it("runs each service by the digest of the release its ESC environment holds (offline: the placeholder), and shows it in the outputs", () => {
    const release = placeholderRelease();
    for (const svc of SERVICES) {
      const reference = `ghcr.io/doc-rag/${svc}@${release.images[svc as DocRagService]}`;
      assert.equal(container(svc).image, reference);
      assert.equal((runs.production.outputs["images"] as Record<string, string>)[svc], reference);
    }
  });

  it("exposes http 8080 and metrics 9090, and passes POD_IP, POD_NAME and NAMESPACE from the downward API", () => {
    const c = container("api");
    assert.deepEqual(c.ports, [
      { name: "http", containerPort: 8080 },
      { name: "metrics", containerPort: 9090 },
    ]);
    assert.deepEqual(
      c.env.slice(0, 3),
      [
        ["POD_IP", "status.podIP"],
        ["POD_NAME", "metadata.name"],
        ["NAMESPACE", "metadata.namespace"],
      ].map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })),
    );
    assert.deepEqual(c.envFrom, [
      { configMapRef: { name: "doc-rag-config" } },
      { secretRef: { name: "doc-rag-secrets" } },
    ]);
  });

  it("gives the api 500m/1Gi requests and 2/4Gi limits, and chunker and embedder one GPU on the accelerator nodes", () => {
    assert.deepEqual(container("api").resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "2Gi" },
    });
    for (const svc of ["chunker", "embedder"]) {
      assert.equal(container(svc).resources.limits["nvidia.com/gpu"], "1");
      assert.equal(pod(svc).nodeSelector.accelerator, "nvidia-tesla-v100");
      assert.deepEqual(pod(svc).tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    }
    assert.equal(container("api").resources.limits["nvidia.com/gpu"], undefined);
  });

  it("probes live, ready and startup with the original document's timings", () => {
    const c = container("api");
    const timing = (p: Values) => [
      p.httpGet.path,
      p.httpGet.port,
      p.initialDelaySeconds,
      p.periodSeconds,
      p.timeoutSeconds,
      p.failureThreshold,
    ];
    assert.deepEqual(timing(c.livenessProbe), ["/health/live", 8080, 30, 10, 5, 3]);
    assert.deepEqual(timing(c.readinessProbe), ["/health/ready", 8080, 5, 5, 3, 3]);
    assert.deepEqual(timing(c.startupProbe), ["/health/startup", 8080, 10, 2, 1, 30]);
  });

  it("runs as user 1001 with fsGroup 1001, read-only, without privilege escalation or capabilities, seccomp RuntimeDefault", () => {
    assert.deepEqual(pod("api").securityContext, {
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 1001,
      fsGroup: 1001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(container("api").securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 1001,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("mounts tmp, cache and logs with size limits and the config read-only", () => {
    assert.deepEqual(pod("api").volumes, [
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "cache", emptyDir: { sizeLimit: "2Gi" } },
      { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
      { name: "config", configMap: { name: "doc-rag-config" } },
    ]);
    assert.deepEqual(container("api").volumeMounts.at(-1), {
      name: "config",
      mountPath: "/app/config",
      readOnly: true,
    });
  });

  it("spreads replicas across hosts in production only, each service with its own tokenless ServiceAccount", () => {
    assert.equal(
      pod("api").affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
      "kubernetes.io/hostname",
    );
    assert.equal(byName(runs.staging, ROLLOUT, "api")["spec"].template.spec.affinity, undefined);
    for (const svc of SERVICES) {
      assert.equal(pod(svc).serviceAccountName, `doc-rag-${svc}`);
      assert.equal(pod(svc).automountServiceAccountToken, false);
      assert.equal(
        byName(runs.production, "kubernetes:core/v1:ServiceAccount", `doc-rag-${svc}`)["automountServiceAccountToken"],
        false,
      );
    }
  });
});

describe("delivery: progressive rollouts", () => {
  it("production api: blue-green, no automatic promotion, 30s scale-down delay, analysis before and after", () => {
    const strategy = byName(runs.production, ROLLOUT, "api")["spec"].strategy;
    const analysis = {
      templates: [{ templateName: "canary-success-rate" }, { templateName: "canary-latency" }],
      args: [{ name: "canary-hash", valueFrom: { podTemplateHashValue: "Latest" } }],
    };
    assert.deepEqual(strategy, {
      blueGreen: {
        activeService: "api-active",
        previewService: "api-preview",
        autoPromotionEnabled: false,
        scaleDownDelaySeconds: 30,
        prePromotionAnalysis: analysis,
        postPromotionAnalysis: analysis,
      },
    });
    for (const svc of ["api-active", "api-preview"]) byName(runs.production, "kubernetes:core/v1:Service", svc);
  });

  it("canary elsewhere: 5% (approval), 10% 2m, 20% 5m, 50% 10m, 80% 10m, 100%, analysed from step 2", () => {
    const canary = byName(runs.production, ROLLOUT, "retriever")["spec"].strategy.canary;
    assert.deepEqual(canary.steps, [
      { setWeight: 5 },
      { pause: {} },
      { setWeight: 10 },
      { pause: { duration: "120s" } },
      { setWeight: 20 },
      { pause: { duration: "300s" } },
      { setWeight: 50 },
      { pause: { duration: "600s" } },
      { setWeight: 80 },
      { pause: { duration: "600s" } },
      { setWeight: 100 },
    ]);
    assert.equal(canary.analysis.startingStep, 2);
    assert.deepEqual(
      canary.analysis.templates.map((t: Values) => t["templateName"]),
      ["canary-success-rate", "canary-latency"],
    );
  });

  it("staging api: canary split through the HTTPRoute, promoting itself with pauses a tenth as long", () => {
    const canary = byName(runs.staging, ROLLOUT, "api")["spec"].strategy.canary;
    assert.equal(canary.stableService, "api-stable");
    assert.equal(canary.canaryService, "api-canary");
    assert.deepEqual(canary.trafficRouting, {
      plugins: { "argoproj-labs/gatewayAPI": { httpRoute: "api", namespace: "doc-rag-staging" } },
    });
    assert.deepEqual(canary.steps.slice(0, 4), [
      { setWeight: 5 },
      { pause: { duration: "12s" } },
      { setWeight: 10 },
      { pause: { duration: "12s" } },
    ]);
    const route = byName(runs.staging, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "api");
    assert.deepEqual(route["spec"].rules[0].backendRefs, [
      { name: "api-stable", port: 8080, weight: 100 },
      { name: "api-canary", port: 8080, weight: 0 },
    ]);
  });

  it("analyses with the original document's queries: success rate >= 0.95 and p99 <= 0.5s, every 60s, 5 times", () => {
    const metric = (name: string) =>
      byName(runs.production, "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate", name)["spec"].metrics[0];
    const success = metric("canary-success-rate");
    assert.deepEqual([success.interval, success.count, success.successCondition], ["60s", 5, "result[0] >= 0.95"]);
    assert.match(
      success.provider.prometheus.query,
      /sum\(rate\(http_requests_total\{status!~"5\.\*",rollouts_pod_template_hash="\{\{args\.canary-hash\}\}"\}\[2m\]\)\) \//,
    );
    const latency = metric("canary-latency");
    assert.deepEqual([latency.interval, latency.count, latency.successCondition], ["60s", 5, "result[0] <= 0.5"]);
    assert.match(latency.provider.prometheus.query, /histogram_quantile\(0\.99,/);
    assert.equal(
      success.provider.prometheus.address,
      "http://kube-prometheus-stack-prometheus.doc-rag-prod-monitoring.svc:9090",
    );
  });

  it("installs Argo Rollouts pinned, with the Gateway API traffic-router plugin; dev runs plain Deployments without it", () => {
    const release = find(runs.production, HELM, "delivery-argo-rollouts");
    assert.deepEqual([release.inputs["chart"], release.inputs["version"]], ["argo-rollouts", "2.40.5"]);
    assert.deepEqual((release.inputs["values"] as Values)["controller"].trafficRouterPlugins, [
      {
        name: "argoproj-labs/gatewayAPI",
        location:
          "https://github.com/argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi/releases/download/v0.4.0/gatewayapi-plugin-linux-amd64",
      },
    ]);
    for (const cr of ofType(runs.production, ROLLOUT)) assert.ok(cr.options.dependsOn.includes(release.urn), cr.name);
    assert.equal(ofType(runs.dev, ROLLOUT).length, 0);
    assert.equal(ofType(runs.dev, DEPLOYMENT).length, 6);
    assert.ok(!runs.dev.resources.some((r) => r.name === "delivery-argo-rollouts"));
  });
});

describe("delivery: replicas, disruption budgets and autoscaling", () => {
  it("production: the api's autoscaler exactly as the original document has it, targeting the Rollout", () => {
    const spec = byName(runs.production, HPA, "api")["spec"];
    assert.deepEqual(spec.scaleTargetRef, { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "api" });
    assert.deepEqual([spec.minReplicas, spec.maxReplicas], [3, 20]);
    assert.deepEqual(spec.behavior, {
      scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
      scaleUp: {
        stabilizationWindowSeconds: 60,
        policies: [
          { type: "Percent", value: 50, periodSeconds: 60 },
          { type: "Pods", value: 2, periodSeconds: 60 },
        ],
        selectPolicy: "Max",
      },
    });
    assert.deepEqual(spec.metrics, [
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
      { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } } },
      {
        type: "Pods",
        pods: { metric: { name: "request_latency_p99" }, target: { type: "AverageValue", averageValue: "500m" } },
      },
      {
        type: "External",
        external: {
          metric: { name: "queue_length", selector: { matchLabels: { queue: "doc-rag-processing" } } },
          target: { type: "AverageValue", averageValue: "10" },
        },
      },
    ]);
    assert.equal(byName(runs.production, ROLLOUT, "api")["spec"].replicas, 5);
  });

  it("serves the custom and external metrics from Prometheus through a pinned prometheus-adapter", () => {
    const values = find(runs.production, HELM, "delivery-metrics-adapter").inputs["values"] as Values;
    assert.equal(values["rules"].custom[0].name.as, "request_latency_p99");
    assert.equal(values["rules"].external[0].name.as, "queue_length");
    assert.match(values["rules"].external[0].seriesQuery, /^doc_rag_queue_length\{/);
  });

  it("gives every service a policy/v1 disruption budget and an autoscaler, in every stack", () => {
    for (const run of Object.values(runs)) {
      for (const svc of SERVICES) {
        assert.deepEqual(byName(run, "kubernetes:policy/v1:PodDisruptionBudget", svc)["spec"].maxUnavailable, 1);
        byName(run, HPA, svc);
      }
    }
    assert.equal(byName(runs.staging, ROLLOUT, "api")["spec"].replicas, 2);
    assert.equal(byName(runs.dev, DEPLOYMENT, "api")["spec"].replicas, 1);
    assert.equal(byName(runs.dev, DEPLOYMENT, "chunker")["spec"].template.spec.nodeSelector.accelerator, undefined);
  });
});

describe("delivery: network policies", () => {
  const policy = (run: StackRun, name: string) => byName(run, NETWORK_POLICY, name);
  const peers = (rule: Values) => rule["from"] ?? rule["to"];

  it("admits the api only from the gateway namespace, on 8080", () => {
    const ingress = policy(runs.production, "api-from-callers")["spec"].ingress[0];
    assert.deepEqual(peers(ingress), [
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "doc-rag-prod-gateway" } } },
    ]);
    assert.deepEqual(ingress.ports, [{ protocol: "TCP", port: 8080 }]);
  });

  it("allows exactly the listed service-to-service calls", () => {
    const callers = (svc: string) =>
      ofType(runs.production, NETWORK_POLICY)
        .map(inputs)
        .filter((p) => p["metadata"].name === `${svc}-from-callers`)
        .flatMap((p) =>
          p["spec"].ingress[0].from.map((f: Values) => f["podSelector"]?.matchLabels["app.kubernetes.io/name"]),
        );
    assert.deepEqual(callers("embedder").sort(), ["chunker", "retriever"]);
    assert.deepEqual(callers("retriever"), ["query-processor"]);
    assert.deepEqual(callers("query-processor"), ["api"]);
    assert.deepEqual(callers("response-generator"), ["query-processor"]);
  });

  it("lets each service reach only the data services it uses, the tracing collector and (namespace-wide) DNS", () => {
    const egress = (svc: string) =>
      ofType(runs.production, NETWORK_POLICY)
        .map(inputs)
        .filter((p) => p["metadata"].name.startsWith(`${svc}-to-`))
        .map((p) => p["metadata"].name.replace(`${svc}-to-`, ""))
        .sort();
    assert.deepEqual(egress("api"), ["chunker", "postgres", "query-processor", "tracing", "valkey"]);
    assert.deepEqual(egress("embedder"), ["qdrant", "tracing"]);
    assert.deepEqual(egress("retriever"), ["embedder", "qdrant", "tracing", "valkey"]);
    assert.deepEqual(policy(runs.production, "embedder-to-qdrant")["spec"].egress[0].ports, [
      { protocol: "TCP", port: 6333 },
      { protocol: "TCP", port: 6334 },
    ]);
  });
});

describe("delivery: the edge", () => {
  it("terminates TLS for the api's host with a cert-manager certificate, and serves HTTP only as a redirect", () => {
    const gateway = byName(runs.production, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "doc-rag-gateway");
    assert.equal(gateway["metadata"].annotations["cert-manager.io/cluster-issuer"], "letsencrypt-prod");
    const [https, http] = gateway["spec"].listeners;
    assert.deepEqual([https.protocol, https.port, https.hostname], ["HTTPS", 443, "api.doc-rag.com"]);
    assert.deepEqual(https.tls.certificateRefs, [{ kind: "Secret", name: "doc-rag-tls" }]);
    assert.deepEqual([http.protocol, http.port], ["HTTP", 80]);
    const redirect = byName(runs.production, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "https-redirect");
    assert.deepEqual(redirect["spec"].rules[0].filters, [
      { type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } },
    ]);
    const route = byName(runs.production, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "api");
    assert.deepEqual(route["spec"].parentRefs, [
      { name: "doc-rag-gateway", namespace: "doc-rag-prod-gateway", sectionName: "https" },
    ]);
    assert.deepEqual(route["spec"].rules[0].backendRefs, [{ name: "api-active", port: 8080 }]);
  });

  it("issues from Let's Encrypt with the configured e-mail, solving through the Gateway; dev signs its own", () => {
    const annotation = (run: StackRun) =>
      byName(run, "kubernetes:gateway.networking.k8s.io/v1:Gateway", "doc-rag-gateway")["metadata"].annotations[
        "cert-manager.io/cluster-issuer"
      ];
    assert.equal(annotation(runs.staging), "letsencrypt-prod");
    assert.equal(annotation(runs.dev), "selfsigned");
    assert.deepEqual(byName(runs.dev, "kubernetes:cert-manager.io/v1:ClusterIssuer", "selfsigned")["spec"], {
      selfSigned: {},
    });
    const issuer = byName(runs.production, "kubernetes:cert-manager.io/v1:ClusterIssuer", "letsencrypt-prod")["spec"]
      .acme;
    assert.equal(issuer.server, "https://acme-v02.api.letsencrypt.org/directory");
    assert.equal(issuer.email, "platform@doc-rag.io");
    assert.equal(issuer.solvers[0].http01.gatewayHTTPRoute.parentRefs[0].name, "doc-rag-gateway");
  });

  it("lets cert-manager's controller reach the Gateway on port 80 for the HTTP-01 self-check, where ACME is used", () => {
    const egress = (run: StackRun, name: string) =>
      ofType(run, NETWORK_POLICY)
        .map((p) => p.inputs as Values)
        .find((p) => p["metadata"].name === name)?.["spec"];
    const controller = {
      matchLabels: { "app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": "controller" },
    };
    for (const run of [runs.staging, runs.production]) {
      const outside = egress(run, "cert-manager-acme-self-check");
      assert.deepEqual(outside.podSelector, controller);
      assert.deepEqual(outside.egress, [
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 80, protocol: "TCP" }] },
      ]);
      const inside = egress(run, "cert-manager-acme-self-check-in-cluster");
      assert.deepEqual(inside.egress[0].ports, [{ port: 10080, protocol: "TCP" }]);
      assert.deepEqual(inside.egress[0].to[0].podSelector, { matchLabels: { "app.kubernetes.io/name": "envoy" } });
      assert.equal(
        inside.egress[0].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
        (run.outputs["namespaces"] as Record<string, string>)["gateway"],
      );
    }
    // dev's certificate is self-signed: no challenge, no such path.
    assert.equal(egress(runs.dev, "cert-manager-acme-self-check"), undefined);
  });

  it("limits each client to 100 requests per second through Envoy Gateway's own policy", () => {
    const policy = byName(
      runs.production,
      "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy",
      "api-rate-limit",
    )["spec"];
    assert.deepEqual(policy.targetRefs, [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "api" }]);
    assert.deepEqual(policy.rateLimit.local.rules, [
      {
        clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
        limit: { requests: 100, unit: "Second" },
      },
    ]);
  });

  it("installs Envoy Gateway and cert-manager from pinned charts", () => {
    const chart = (name: string) => {
      const r = find(runs.production, HELM, name);
      return [r.inputs["chart"], r.inputs["version"]];
    };
    assert.deepEqual(chart("delivery-edge-envoy-gateway"), ["oci://docker.io/envoyproxy/gateway-helm", "v1.9.0"]);
    assert.deepEqual(chart("delivery-edge-cert-manager"), ["cert-manager", "v1.19.1"]);
  });
});

describe("delivery: images", () => {
  it("uses a configured digest as is, and dev runs the tag it has no digest for", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const run = await runStack("dev", { overrides: [`doc-rag:services.api.image.digest=${digest}`] });
    const image = (svc: string) => byName(run, DEPLOYMENT, svc)["spec"].template.spec.containers[0].image;
    assert.equal(image("api"), `ghcr.io/doc-rag/api@${digest}`);
    assert.equal(image("chunker"), "ghcr.io/doc-rag/chunker:1.0.0");
  });

  it("runs a recorded release's digest for every service, over each service's own image settings", async () => {
    const images = Object.fromEntries(
      DOC_RAG_SERVICES.map((s, i) => [s, `sha256:${i.toString(16).repeat(64)}`]),
    ) as Record<string, string>;
    const release = JSON.stringify({ version: "v1.4.2", images });
    const run = await runStack("staging", {
      overrides: [`doc-rag:release=${release}`, `doc-rag:services.api.image.digest=sha256:${"f".repeat(64)}`],
    });
    assert.equal(run.error, undefined, run.error?.message);
    for (const service of DOC_RAG_SERVICES) {
      const image = byName(run, ROLLOUT, service)["spec"].template.spec.containers[0].image;
      assert.equal(image, `ghcr.io/doc-rag/${service}@${images[service]}`, service);
    }
    const partial = await runStack("staging", {
      overrides: [`doc-rag:release={"version":"1.4.2","images":{"api":"sha256:${"a".repeat(64)}"}}`],
    });
    assert.match(partial.error?.message ?? "", /doc-rag:release\.version: must be a release tag such as v1\.4\.2/);
    assert.match(partial.error?.message ?? "", /doc-rag:release\.images\.chunker: /);
    assert.equal(partial.resources.length, 0);
  });

  it("refuses the latest tag, naming the key", async () => {
    const run = await runStack("production", { overrides: ["doc-rag:services.api.image.tag=latest"] });
    assert.match(
      run.error?.message ?? "",
      /doc-rag:services\.api\.image\.tag: must name a release: latest moves under you \(got "latest"\)/,
    );
    assert.equal(run.resources.length, 0);
  });
});

describe("delivery: the canary analysis, end to end with promtool", () => {
  /**
   * The target labels Prometheus gives a pod's series under a ServiceMonitor, as the Prometheus
   * Operator's relabelling does: job from the Service's jobLabel, namespace, pod, and each of the
   * monitor's podTargetLabels (its name sanitised to a label name) from the pod's labels.
   */
  function seriesLabels(monitor: Values, pod: { name: string; namespace: string; labels: Record<string, string> }) {
    const labels: Record<string, string> = {
      job: pod.labels[monitor["jobLabel"]] ?? "",
      namespace: pod.namespace,
      pod: pod.name,
    };
    for (const name of (monitor["podTargetLabels"] ?? []) as string[]) {
      if (pod.labels[name] !== undefined) labels[name.replace(/[^A-Za-z0-9_]/g, "_")] = pod.labels[name];
    }
    return labels;
  }
  const selector = (labels: Record<string, string>, extra: Record<string, string> = {}) =>
    `{${Object.entries({ ...labels, ...extra })
      .map(([k, v]) => `${k}="${v}"`)
      .join(",")}}`;

  /** promtool test rules: the query's result at 10m for per-second rates of good and 5xx requests per hash. */
  function successRate(
    query: string,
    pods: { labels: Record<string, string>; ok: number; errors: number }[],
    expected: number[],
  ) {
    const perMinute = (perSecond: number) => `0+${perSecond * 60}x10`;
    const tests = {
      tests: [
        {
          interval: "1m",
          input_series: pods.flatMap((p) => [
            { series: `http_requests_total${selector(p.labels, { status: "200" })}`, values: perMinute(p.ok) },
            { series: `http_requests_total${selector(p.labels, { status: "503" })}`, values: perMinute(p.errors) },
          ]),
          promql_expr_test: [
            { expr: query, eval_time: "10m", exp_samples: expected.map((value) => ({ labels: "{}", value })) },
          ],
        },
      ],
    };
    return runToolOn("promtool", { "analysis.yaml": tests }, ["test", "rules", "analysis.yaml"]);
  }

  it("selects the canary's series by the hash label the ServiceMonitor copies from its pods", () => {
    const run = runs.production;
    const monitor = byName(run, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "doc-rag-chunker")["spec"];
    assert.deepEqual(monitor.podTargetLabels, ["rollouts-pod-template-hash"]);
    const rollout = byName(run, "kubernetes:argoproj.io/v1alpha1:Rollout", "chunker");
    const namespace = rollout["metadata"].namespace as string;
    const template = byName(run, "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate", "canary-success-rate")["spec"];
    const metric = template.metrics[0];
    const query = (metric.provider.prometheus.query as string).replaceAll("{{args.canary-hash}}", "canary1");
    assert.equal(metric.successCondition, "result[0] >= 0.95");
    // Pods as Argo Rollouts labels them: the template's labels plus the hash of their ReplicaSet.
    const pod = (hash: string) =>
      seriesLabels(monitor, {
        name: `chunker-${hash}-x`,
        namespace,
        labels: { ...rollout["spec"].template.metadata.labels, "rollouts-pod-template-hash": hash },
      });

    // The template's own success condition (Argo's expression; these comparisons read the same in JavaScript).
    const passes = (value: number) => new Function("result", `return ${metric.successCondition}`)([value]) as boolean;
    for (const { what, canary, stable, value, pass } of [
      {
        what: "a healthy canary beside a failing stable version",
        canary: [99, 1],
        stable: [1, 99],
        value: 0.99,
        pass: true,
      },
      { what: "a canary failing half its requests", canary: [50, 50], stable: [100, 0], value: 0.5, pass: false },
    ]) {
      const pods = [
        { labels: pod("canary1"), ok: canary[0]!, errors: canary[1]! },
        { labels: pod("stable1"), ok: stable[0]!, errors: stable[1]! },
      ];
      const result = successRate(query, pods, [value]);
      assert.equal(result.status, 0, `${what}: ${result.output}`);
      assert.equal(passes(value), pass, what);
    }
    // Without the ServiceMonitor's podTargetLabels the series carry no hash: the query finds nothing,
    // so the analysis could never pass.
    const unlabelled = seriesLabels(
      { ...monitor, podTargetLabels: [] },
      { name: "chunker-canary1-x", namespace, labels: rollout["spec"].template.metadata.labels },
    );
    const blind = successRate(query, [{ labels: unlabelled, ok: 99, errors: 1 }], []);
    assert.equal(blind.status, 0, blind.output);
  });
});

describe("delivery: the resource metrics API for the autoscalers' CPU and memory targets", () => {
  const adapterRules = (run: StackRun) =>
    (find(run, "kubernetes:helm.sh/v3:Release", "delivery-metrics-adapter").inputs["values"] as Values)["rules"];

  it("is served from Prometheus by prometheus-adapter in every stack that installs it, unless switched off", async () => {
    for (const run of [runs.dev, runs.staging, runs.production]) {
      assert.deepEqual(Object.keys(adapterRules(run).resource).sort(), ["cpu", "memory", "window"], run.stack);
    }
    const existing = await runStack("production", { overrides: ["doc-rag:delivery.resourceMetrics=false"] });
    assert.equal(adapterRules(existing).resource, undefined, "a cluster's own metrics-server keeps the API");
  });

  it("turns the kubelets' cAdvisor series into each pod's CPU cores and memory working set (promtool)", () => {
    const rules = adapterRules(runs.production).resource;
    // As the adapter fills the templates for a pod query in one namespace.
    const fill = (query: string) =>
      query.replaceAll("<<.GroupBy>>", "namespace, pod").replaceAll("<<.LabelMatchers>>", 'namespace="doc-rag-prod"');
    const series = (name: string, container: string, values: string) => ({
      series: `${name}{namespace="doc-rag-prod",pod="api-1",container="${container}"}`,
      values,
    });
    const tests = {
      tests: [
        {
          interval: "1m",
          input_series: [
            // 30 CPU-seconds a minute: half a core. The pod's sandbox (container="") is left out.
            series("container_cpu_usage_seconds_total", "api", "0+30x10"),
            series("container_cpu_usage_seconds_total", "", "0+600x10"),
            series("container_memory_working_set_bytes", "api", "268435456x10"),
          ],
          promql_expr_test: [
            {
              expr: fill(rules.cpu.containerQuery),
              eval_time: "10m",
              exp_samples: [{ labels: '{namespace="doc-rag-prod",pod="api-1"}', value: 0.5 }],
            },
            {
              expr: fill(rules.memory.containerQuery),
              eval_time: "10m",
              exp_samples: [{ labels: '{namespace="doc-rag-prod",pod="api-1"}', value: 268435456 }],
            },
          ],
        },
      ],
    };
    const result = runToolOn("promtool", { "resource-metrics.yaml": tests }, [
      "test",
      "rules",
      "resource-metrics.yaml",
    ]);
    assert.equal(result.status, 0, result.output);
  });
});
