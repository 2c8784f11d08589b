/**
 * The pod template every Doc-RAG service runs, with the original document's settings (§3.2):
 * ports, downward-API environment, config and secrets, probes and their timings, a non-root
 * read-only container, scratch volumes with size limits, and anti-affinity in production.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "../config";
import { DELIVERED_SECRETS } from "../secrets/catalog";
import { METRICS_PORT } from "../services";

export const HTTP_PORT = 8080;
export const APP_CONFIG = "doc-rag-config";
const USER = 1001;
/** The accelerator the original document schedules GPU services on. */
export const GPU_NODE_SELECTOR = { accelerator: "nvidia-tesla-v100" };

export interface PodTemplateArgs {
  name: string;
  labels: Record<string, string>;
  image: pulumi.Input<string>;
  config: ServiceConfig;
  serviceAccount: string;
  /** Required anti-affinity by host (production): no two replicas share a node. */
  spreadByHost: boolean;
  /** Where the service sends traces; none in a review stack (see `tracingEnv`). */
  tracingEndpoint: string | undefined;
}

/**
 * Where OpenTelemetry sends traces, as environment variables. Without a collector (a review
 * stack's owner admits only its own services) the SDK is switched off rather than left retrying.
 */
export function tracingEnv(endpoint: string | undefined): { name: string; value: string }[] {
  return endpoint
    ? [{ name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: `http://${endpoint}` }]
    : [{ name: "OTEL_SDK_DISABLED", value: "true" }];
}

const fieldRef = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });

const probe = (path: string, t: [number, number, number, number]) => ({
  httpGet: { path, port: HTTP_PORT },
  initialDelaySeconds: t[0],
  periodSeconds: t[1],
  timeoutSeconds: t[2],
  failureThreshold: t[3],
});

export function podTemplate(args: PodTemplateArgs): k8s.types.input.core.v1.PodTemplateSpec {
  const { config } = args;
  const gpu: Record<string, string> = config.gpu ? { "nvidia.com/gpu": "1" } : {};
  return {
    metadata: { labels: args.labels },
    spec: {
      serviceAccountName: args.serviceAccount,
      automountServiceAccountToken: false,
      // The private registry's credential (doc-rag:registryAuth, through Vault and External Secrets).
      imagePullSecrets: [{ name: DELIVERED_SECRETS.registry.name }],
      securityContext: {
        runAsNonRoot: true,
        runAsUser: USER,
        runAsGroup: USER,
        fsGroup: USER,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: args.name,
          image: args.image,
          imagePullPolicy: "IfNotPresent",
          ports: [
            { name: "http", containerPort: HTTP_PORT },
            { name: METRICS_PORT.name, containerPort: METRICS_PORT.port },
          ],
          env: [
            fieldRef("POD_IP", "status.podIP"),
            fieldRef("POD_NAME", "metadata.name"),
            fieldRef("NAMESPACE", "metadata.namespace"),
            { name: "OTEL_SERVICE_NAME", value: args.name },
            ...tracingEnv(args.tracingEndpoint),
          ],
          envFrom: [
            { configMapRef: { name: APP_CONFIG } },
            { secretRef: { name: DELIVERED_SECRETS.application.name } },
          ],
          resources: {
            requests: { ...config.resources.requests, "ephemeral-storage": "1Gi", ...gpu },
            limits: { ...config.resources.limits, "ephemeral-storage": "2Gi", ...gpu },
          },
          livenessProbe: probe("/health/live", [30, 10, 5, 3]),
          readinessProbe: probe("/health/ready", [5, 5, 3, 3]),
          startupProbe: probe("/health/startup", [10, 2, 1, 30]),
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: USER,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          volumeMounts: [
            { name: "tmp", mountPath: "/tmp" },
            { name: "cache", mountPath: "/app/cache" },
            { name: "logs", mountPath: "/app/logs" },
            { name: "config", mountPath: "/app/config", readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
        { name: "cache", emptyDir: { sizeLimit: "2Gi" } },
        { name: "logs", emptyDir: { sizeLimit: "1Gi" } },
        { name: "config", configMap: { name: APP_CONFIG } },
      ],
      nodeSelector: { "kubernetes.io/arch": "amd64", ...(config.gpu ? GPU_NODE_SELECTOR : {}) },
      ...(config.gpu ? { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] } : {}),
      ...(args.spreadByHost
        ? {
            affinity: {
              podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [
                  {
                    labelSelector: { matchLabels: { "app.kubernetes.io/name": args.name } },
                    topologyKey: "kubernetes.io/hostname",
                  },
                ],
              },
            },
          }
        : {}),
    },
  };
}
