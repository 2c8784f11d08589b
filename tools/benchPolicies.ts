/**
 * Policy evaluation throughput: the whole pack (resource and stack policies) over generated
 * stacks of a given size, timed in-process after a warm-up. Used by `npm run bench`.
 */
import { policies } from "../policies/pack";
import { evaluatePack, kubernetesTarget, type PolicyTarget } from "../lib/packRunner";

const DIGEST = "sha256:" + "0".repeat(64);

/** One namespace's worth of a realistic stack: ten resources, all compliant. */
function tenant(i: number): PolicyTarget[] {
  const ns = `tenant-${i}`;
  const meta = (name: string) => ({ name, namespace: ns });
  const labels = { "app.kubernetes.io/name": `svc-${i}` };
  const k8s = (type: string, name: string, props: Record<string, unknown>) =>
    kubernetesTarget(type, `${ns}-${name}`, props);
  const container = {
    name: "app",
    image: `ghcr.io/doc-rag/app@${DIGEST}`,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
  };
  return [
    k8s("core/v1:Namespace", "ns", {
      metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    }),
    k8s("core/v1:ResourceQuota", "quota", { metadata: meta("quota"), spec: { hard: { "requests.cpu": "4" } } }),
    k8s("core/v1:LimitRange", "limits", { metadata: meta("limits"), spec: { limits: [] } }),
    k8s("networking.k8s.io/v1:NetworkPolicy", "deny", {
      metadata: meta("deny"),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    }),
    k8s("apps/v1:Deployment", "app", {
      metadata: meta("app"),
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [container],
          },
        },
      },
    }),
    k8s("core/v1:Service", "svc", { metadata: meta("svc"), spec: { type: "ClusterIP", selector: labels } }),
    k8s("policy/v1:PodDisruptionBudget", "pdb", {
      metadata: meta("pdb"),
      spec: { minAvailable: 1, selector: { matchLabels: labels } },
    }),
    k8s("autoscaling/v2:HorizontalPodAutoscaler", "hpa", {
      metadata: meta("hpa"),
      spec: { scaleTargetRef: { kind: "Deployment", name: "app" }, minReplicas: 3, maxReplicas: 20 },
    }),
    k8s("core/v1:ConfigMap", "config", { metadata: meta("config"), data: { LOG_LEVEL: "info" } }),
    {
      type: "kubernetes:helm.sh/v3:Release",
      name: `${ns}-cache`,
      opts: { protect: true },
      props: {
        chart: "valkey",
        version: "0.9.0",
        namespace: ns,
        atomic: true,
        repositoryOpts: { repo: "https://valkey.io/valkey-helm/" },
        values: { dataStorage: { enabled: true }, metrics: { enabled: true } },
      },
    },
  ];
}

export function generatedStack(count: number): PolicyTarget[] {
  return Array.from({ length: Math.ceil(count / 10) }, (_, i) => tenant(i))
    .flat()
    .slice(0, count);
}

export interface Throughput {
  resources: number;
  ms: number;
  perSecond: number;
}

/** Times the pack over `count` generated resources: the median of `runs` evaluations. */
export async function policyThroughput(count: number, runs = 3): Promise<Throughput> {
  const targets = generatedStack(count);
  const config = { "service-exposure": { allowedNamespaces: {} } };
  const report = await evaluatePack(policies, targets, config); // warm-up, and a check the data is compliant
  if (report.violations.length) throw new Error(`generated stack is not compliant: ${report.violations[0]?.message}`);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await evaluatePack(policies, targets, config);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? Number.NaN;
  return { resources: count, ms, perSecond: (count / ms) * 1000 };
}
