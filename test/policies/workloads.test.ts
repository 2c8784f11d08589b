import * as assert from "node:assert/strict";
import {
  containerProbes,
  containerResources,
  fullImageName,
  imagePinned,
  imageRegistry,
  minimumReplicas,
  readOnlyRootFilesystem,
  SERVICE_ACCOUNT_TOKEN_ANNOTATION,
  serviceAccountToken,
} from "../../policies/workloads";
import type { PolicyTarget } from "../harness";
import { describePolicy } from "./check";
import { container, DIGEST, pod, podSpec, workloads } from "./fixtures";

const withContainer = (extra: Record<string, unknown>) => pod(podSpec({ containers: [container("app", extra)] }));
const withSpec = (extra: Record<string, unknown>) => pod(podSpec(extra));
const deployment = (replicas?: number): PolicyTarget => {
  const d = structuredClone(workloads().Deployment!);
  (d.props.spec as Record<string, unknown>).replicas = replicas;
  return d;
};

describePolicy({
  policy: readOnlyRootFilesystem,
  compliant: [{ title: "containers with a read-only root filesystem", target: pod() }],
  violating: [
    {
      title: "a writable root filesystem",
      target: withContainer({ securityContext: { readOnlyRootFilesystem: false } }),
      expect: 'container "app": spec.containers[0].securityContext.readOnlyRootFilesystem must be true',
    },
    {
      title: "an init container without the setting",
      target: withSpec({ initContainers: [{ name: "init", image: "x" }] }),
      expect: 'init container "init"',
    },
  ],
});

describePolicy({
  policy: containerResources,
  compliant: [
    { title: "requests and limits on every container", target: pod() },
    {
      title: "no CPU limit when configured off",
      target: withContainer({ resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi" } } }),
      config: { requireCpuLimit: false },
    },
  ],
  violating: [
    {
      title: "a container without requests",
      target: withContainer({ resources: { limits: { cpu: "1", memory: "1Gi" } } }),
      expect: "is missing requests.cpu, requests.memory",
    },
    {
      title: "a container without limits",
      target: withContainer({ resources: { requests: { cpu: "1", memory: "1Gi" } } }),
      expect: "is missing limits.cpu, limits.memory",
    },
    {
      title: "a memory limit missing even when CPU limits are off",
      target: withContainer({ resources: { requests: { cpu: "1", memory: "1Gi" } } }),
      config: { requireCpuLimit: false },
      expect: "is missing limits.memory",
    },
  ],
});

describePolicy({
  policy: containerProbes,
  compliant: [
    { title: "liveness and readiness probes", target: pod() },
    {
      title: "a Job without probes (it runs to completion)",
      target: workloads(
        podSpec({ containers: [container("job", { livenessProbe: undefined, readinessProbe: undefined })] }),
      ).Job!,
    },
  ],
  violating: [
    {
      title: "a container without a liveness probe",
      target: withContainer({ livenessProbe: undefined }),
      expect: 'container "app": spec.containers[0].livenessProbe is missing',
    },
    {
      title: "a container without a readiness probe",
      target: withContainer({ readinessProbe: undefined }),
      expect: "spec.containers[0].readinessProbe is missing",
    },
    {
      title: "a sidecar (restartPolicy: Always) without probes",
      target: withSpec({ initContainers: [{ name: "proxy", image: "x", restartPolicy: "Always" }] }),
      expect: 'init container "proxy": spec.initContainers[0].livenessProbe is missing',
    },
  ],
});

describePolicy({
  policy: imagePinned,
  compliant: [
    { title: "images pinned by digest", target: pod() },
    {
      title: "an immutable version tag when allowed",
      target: withContainer({ image: "ghcr.io/doc-rag/api:1.4.2" }),
      config: { allowImmutableTags: true },
    },
  ],
  violating: [
    {
      title: "a tag",
      target: withContainer({ image: "ghcr.io/doc-rag/api:1.4.2" }),
      expect: 'image "ghcr.io/doc-rag/api:1.4.2" is not pinned; required: a digest',
    },
    {
      title: "latest even when immutable tags are allowed",
      target: withContainer({ image: "ghcr.io/doc-rag/api:latest" }),
      config: { allowImmutableTags: true },
      expect: "not pinned",
    },
    {
      title: "a tag outside the configured pattern",
      target: withContainer({ image: "ghcr.io/doc-rag/api:main" }),
      config: { allowImmutableTags: true },
      expect: "a tag matching",
    },
    { title: "no tag at all", target: withContainer({ image: "ghcr.io/doc-rag/api" }), expect: "not pinned" },
  ],
});

describePolicy({
  policy: imageRegistry,
  compliant: [
    { title: "images from ghcr.io (the default)", target: pod() },
    { title: "a configured path prefix", target: pod(), config: { allowedRegistries: ["ghcr.io/doc-rag/"] } },
  ],
  violating: [
    {
      title: "Docker Hub images",
      target: withContainer({ image: `nginx@${DIGEST}` }),
      expect: '"docker.io/library/nginx@',
    },
    {
      title: "a registry outside the configured prefix",
      target: withContainer({ image: `ghcr.io/other/api@${DIGEST}` }),
      config: { allowedRegistries: ["ghcr.io/doc-rag"] },
      expect: "is not from an allowed registry (ghcr.io/doc-rag)",
    },
    {
      title: "a look-alike host",
      target: withContainer({ image: `ghcr.io.evil.com/api@${DIGEST}` }),
      expect: "not from an allowed registry",
    },
  ],
});

describePolicy({
  policy: serviceAccountToken,
  compliant: [
    { title: "automountServiceAccountToken: false", target: pod() },
    {
      title: "a token the workload declares it needs",
      target: (() => {
        const t = withSpec({ automountServiceAccountToken: undefined });
        (t.props.metadata as Record<string, unknown>).annotations = {
          [SERVICE_ACCOUNT_TOKEN_ANNOTATION]: "watches Rollouts",
        };
        return t;
      })(),
    },
  ],
  violating: [
    {
      title: "a token mounted by default",
      target: withSpec({ automountServiceAccountToken: undefined }),
      expect: "spec.automountServiceAccountToken must be false",
    },
  ],
});

describePolicy({
  policy: minimumReplicas,
  compliant: [
    { title: "three replicas", target: deployment(3) },
    { title: "a StatefulSet (not stateless)", target: workloads().StatefulSet! },
    { title: "one replica where configured", target: deployment(1), config: { minReplicas: 1 } },
  ],
  violating: [
    { title: "one replica", target: deployment(1), expect: "spec.replicas is 1; required: at least 2" },
    { title: "replicas left to the default of one", target: deployment(undefined), expect: "spec.replicas is 1" },
    {
      title: "a single-replica Rollout",
      target: (() => {
        const r = structuredClone(workloads().Rollout!);
        (r.props.spec as Record<string, unknown>).replicas = 1;
        return r;
      })(),
      expect: "required: at least 2",
    },
  ],
});

describe("image names", () => {
  it("complete Docker Hub shorthands and keep registries", () => {
    assert.equal(fullImageName("nginx"), "docker.io/library/nginx");
    assert.equal(fullImageName("bitnami/redis:7"), "docker.io/bitnami/redis:7");
    assert.equal(fullImageName("localhost/x"), "localhost/x");
    assert.equal(fullImageName("registry:5000/x"), "registry:5000/x");
  });
});
