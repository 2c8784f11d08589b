import * as assert from "node:assert/strict";
import { githubEnvironmentProtection, githubRepositorySecurity } from "../../policies/github";
import {
  helmAtomic,
  helmChartVersionPinned,
  helmDataServices,
  helmNoLiteralSecrets,
  helmRepositorySecure,
  literalCredentials,
} from "../../policies/helm";
import { namespacePodSecurity } from "../../policies/namespaces";
import { serviceExposure } from "../../policies/network";
import { noCredentialSecrets } from "../../policies/secrets";
import { vaultKubernetesRoleBound, vaultKvVersion2, vaultPolicyLeastPrivilege } from "../../policies/vault";
import { runResourcePolicy, type PolicyTarget } from "../harness";
import { describePolicy } from "./check";

const namespace = (name: string, enforce?: string): PolicyTarget => ({
  type: "kubernetes:core/v1:Namespace",
  props: { metadata: { name, labels: enforce ? { "pod-security.kubernetes.io/enforce": enforce } : {} } },
});

describePolicy({
  policy: namespacePodSecurity,
  compliant: [
    { title: "a restricted namespace", target: namespace("doc-rag", "restricted") },
    {
      title: "an allowlisted namespace at privileged",
      target: namespace("agents", "privileged"),
      config: { allowlist: { agents: "Falco needs host access" } },
    },
  ],
  violating: [
    {
      title: "a baseline namespace",
      target: namespace("doc-rag", "baseline"),
      expect: 'label pod-security.kubernetes.io/enforce is "baseline"; required: "restricted"',
    },
    { title: "a namespace without the label", target: namespace("doc-rag"), expect: '"unset"' },
    {
      title: "an allowlisted namespace with no enforce level at all",
      target: namespace("agents"),
      config: { allowlist: { agents: "Falco" } },
      expect: "is allowlisted (Falco) but sets no",
    },
  ],
});

const service = (type: string, ns = "doc-rag"): PolicyTarget => ({
  type: "kubernetes:core/v1:Service",
  props: { metadata: { name: "api", namespace: ns }, spec: { type } },
});

describePolicy({
  policy: serviceExposure,
  compliant: [
    { title: "a ClusterIP service", target: service("ClusterIP") },
    {
      title: "a LoadBalancer in an allowlisted namespace",
      target: service("LoadBalancer", "doc-rag-gateway"),
      config: { allowedNamespaces: { "doc-rag-gateway": "gateway" } },
    },
  ],
  violating: [
    {
      title: "a LoadBalancer elsewhere",
      target: service("LoadBalancer"),
      config: { allowedNamespaces: { "doc-rag-gateway": "gateway" } },
      expect: "type LoadBalancer is only allowed in doc-rag-gateway",
    },
    {
      title: "a NodePort",
      target: service("NodePort"),
      expect: "type NodePort is only allowed in allowlisted namespaces (none configured)",
    },
  ],
});

const secret = (props: Record<string, unknown>): PolicyTarget => ({
  type: "kubernetes:core/v1:Secret",
  props: { metadata: { name: "s", namespace: "doc-rag" }, ...props },
});

describePolicy({
  policy: noCredentialSecrets,
  compliant: [
    { title: "a Secret of non-credential settings", target: secret({ stringData: { "feature-flags": "a=b" } }) },
  ],
  violating: [
    {
      title: "a password key",
      target: secret({ stringData: { POSTGRES_PASSWORD: "x" } }),
      expect: "carries credential keys POSTGRES_PASSWORD",
    },
    { title: "a TLS key file in data", target: secret({ data: { "tls.key": "eA==" } }), expect: "tls.key" },
    {
      title: "a credential Secret type",
      target: secret({ type: "kubernetes.io/basic-auth", stringData: {} }),
      expect: "credential type kubernetes.io/basic-auth",
    },
  ],
});

const release = (props: Record<string, unknown>): PolicyTarget => ({
  type: "kubernetes:helm.sh/v3:Release",
  name: "r",
  props: {
    name: "r",
    namespace: "doc-rag-data",
    chart: "qdrant",
    version: "1.15.4",
    repositoryOpts: { repo: "https://qdrant.github.io/qdrant-helm" },
    atomic: true,
    values: {},
    ...props,
  },
});

describePolicy({
  policy: helmChartVersionPinned,
  compliant: [
    { title: "an exact version", target: release({}) },
    { title: "a pre-release version", target: release({ version: "0.9.0-rc.1" }) },
  ],
  violating: [
    {
      title: "a range",
      target: release({ version: "^1.2.0" }),
      expect: 'version "^1.2.0" is not an exact chart version',
    },
    { title: "no version", target: release({ version: undefined }), expect: 'version ""' },
    { title: "latest", target: release({ version: "latest" }), expect: '"latest"' },
  ],
});

describePolicy({
  policy: helmRepositorySecure,
  compliant: [
    { title: "an HTTPS repository", target: release({}) },
    {
      title: "an OCI chart",
      target: release({ chart: "oci://ghcr.io/cloudnative-pg/charts/cluster", repositoryOpts: undefined }),
    },
    {
      title: "a local chart in a trusted chart directory",
      target: release({ chart: "/srv/charts/cluster/0.5.0/cluster", repositoryOpts: undefined }),
      config: { localChartDirectories: ["/srv/charts/"] },
    },
  ],
  violating: [
    {
      title: "a local chart nobody trusted",
      target: release({ chart: "/srv/charts/cluster/0.5.0/cluster", repositoryOpts: undefined }),
      expect: "a local chart outside the trusted localChartDirectories ([])",
    },
    {
      title: "a local chart beside the trusted directory, not in it",
      target: release({ chart: "/srv/charts-evil/cluster", repositoryOpts: undefined }),
      config: { localChartDirectories: ["/srv/charts"] },
      expect: 'outside the trusted localChartDirectories (["/srv/charts"])',
    },
    {
      title: "plain HTTP",
      target: release({ repositoryOpts: { repo: "http://charts.example.com" } }),
      expect: 'repository "http://charts.example.com" is neither',
    },
    { title: "no repository", target: release({ repositoryOpts: undefined }), expect: 'repository ""' },
  ],
});

describePolicy({
  policy: helmAtomic,
  compliant: [
    { title: "atomic", target: release({}) },
    { title: "cleanupOnFail", target: release({ atomic: false, cleanupOnFail: true }) },
  ],
  violating: [{ title: "neither", target: release({ atomic: false }), expect: "set atomic: true" }],
});

describePolicy({
  policy: helmNoLiteralSecrets,
  compliant: [
    {
      title: "references to existing Secrets",
      target: release({
        values: {
          auth: { existingSecret: "valkey-auth", usersExistingSecret: "u", passwordKey: "pw" },
          sentinel: { password: "" },
          alertmanagerSpec: { configSecret: "alertmanager-config" },
        },
      }),
    },
  ],
  violating: [
    {
      title: "a literal password",
      target: release({ values: { auth: { aclUsers: { default: { password: "hunter2" } } } } }),
      expect: "values.auth.aclUsers.default.password is a literal credential",
    },
    {
      title: "a literal API key in a list",
      target: release({ values: { env: [{ apiKey: "abc" }] } }),
      expect: "values.env[0].apiKey",
    },
  ],
});

describePolicy({
  policy: helmDataServices,
  compliant: [
    {
      title: "persistence and metrics on",
      target: release({ values: { persistence: { size: "50Gi" }, metrics: { serviceMonitor: { enabled: true } } } }),
    },
  ],
  violating: [
    {
      title: "no persistence",
      target: release({ values: { metrics: { serviceMonitor: { enabled: true } } } }),
      expect: "persistence is not enabled; set one of values.persistence.size",
    },
    {
      title: "no metrics",
      target: release({ values: { persistence: { size: "50Gi" } } }),
      expect: "metrics is not enabled",
    },
    {
      title: "a configured chart without its paths",
      target: release({ chart: "mydb" }),
      config: { dataServices: { mydb: { persistence: ["data.enabled"], metrics: ["exporter.enabled"] } } },
      expect: "values.data.enabled",
    },
  ],
});

const vaultPolicy = (policy: string): PolicyTarget => ({
  type: "vault:index/policy:Policy",
  props: { name: "doc-rag-api", policy },
});

describePolicy({
  policy: vaultPolicyLeastPrivilege,
  compliant: [
    {
      title: "read on a glob, write on a named path",
      target: vaultPolicy(
        'path "secret/data/doc-rag/*" { capabilities = ["read", "list"] }\npath "secret/data/doc-rag/api" { capabilities = ["update"] }',
      ),
    },
  ],
  violating: [
    {
      title: "sudo",
      target: vaultPolicy('path "sys/mounts" { capabilities = ["read", "sudo"] }'),
      expect: 'path "sys/mounts" grants sudo',
    },
    {
      title: "write on a * glob",
      target: vaultPolicy('path "secret/data/*" { capabilities = ["create", "update"] }'),
      expect: 'glob path "secret/data/*" grants create, update',
    },
    {
      title: "write on a + segment",
      target: vaultPolicy('path "secret/data/+/db" { capabilities = ["delete"] }'),
      expect: "grants delete",
    },
    {
      title: "a document that does not parse",
      target: vaultPolicy('path "x" { capabilities = [ }'),
      expect: "does not parse as HCL",
    },
  ],
});

const mount = (props: Record<string, unknown>): PolicyTarget => ({
  type: "vault:index/mount:Mount",
  props: { path: "secret", ...props },
});

describePolicy({
  policy: vaultKvVersion2,
  compliant: [
    { title: "kv-v2", target: mount({ type: "kv-v2" }) },
    { title: "kv with version 2", target: mount({ type: "kv", options: { version: "2" } }) },
  ],
  violating: [{ title: "kv version 1", target: mount({ type: "kv" }), expect: "Vault mount secret: KV version 1" }],
});

const role = (props: Record<string, unknown>): PolicyTarget => ({
  type: "vault:kubernetes/authBackendRole:AuthBackendRole",
  props: {
    roleName: "api",
    boundServiceAccountNames: ["api"],
    boundServiceAccountNamespaces: ["doc-rag"],
    tokenTtl: 900,
    tokenMaxTtl: 3600,
    ...props,
  },
});

describePolicy({
  policy: vaultKubernetesRoleBound,
  compliant: [{ title: "named accounts and short tokens", target: role({}) }],
  violating: [
    {
      title: "a * service account",
      target: role({ boundServiceAccountNames: ["*"] }),
      expect: 'boundServiceAccountNames must list explicit names (got ["*"])',
    },
    {
      title: "a * namespace",
      target: role({ boundServiceAccountNamespaces: ["*"] }),
      expect: "boundServiceAccountNamespaces must list explicit names",
    },
    {
      title: "a namespace selector",
      target: role({ boundServiceAccountNamespaceSelector: "{}" }),
      expect: "boundServiceAccountNamespaceSelector widens",
    },
    { title: "an unbounded TTL", target: role({ tokenTtl: undefined }), expect: "tokenTtl is unset" },
    {
      title: "a max TTL above the configured bound",
      target: role({ tokenMaxTtl: 7200 }),
      config: { maxTokenTtlSeconds: 3600 },
      expect: "tokenMaxTtl is 7200; required: 1–3600 seconds",
    },
  ],
});

const environment = (props: Record<string, unknown>): PolicyTarget => ({
  type: "github:index/repositoryEnvironment:RepositoryEnvironment",
  props: {
    environment: "production",
    repository: "doc-rag",
    reviewers: [{ teams: [42] }],
    preventSelfReview: true,
    canAdminsBypass: false,
    deploymentBranchPolicy: { protectedBranches: true, customBranchPolicies: false },
    ...props,
  },
});

describePolicy({
  policy: githubEnvironmentProtection,
  compliant: [
    { title: "a protected production environment", target: environment({}) },
    {
      title: "an unprotected staging environment (not configured as protected)",
      target: environment({ environment: "staging", reviewers: [] }),
    },
  ],
  violating: [
    {
      title: "no reviewers",
      target: environment({ reviewers: [] }),
      expect: "environment production: has no required reviewers",
    },
    { title: "self-review", target: environment({ preventSelfReview: false }), expect: "preventSelfReview" },
    {
      title: "admin bypass",
      target: environment({ canAdminsBypass: undefined }),
      expect: "canAdminsBypass must be false",
    },
    {
      title: "any branch",
      target: environment({ deploymentBranchPolicy: undefined }),
      expect: "deploys from any branch",
    },
  ],
});

const repository = (props: Record<string, unknown>): PolicyTarget => ({
  type: "github:index/repository:Repository",
  props: {
    name: "doc-rag",
    visibility: "private",
    vulnerabilityAlerts: true,
    securityAndAnalysis: { secretScanning: { status: "enabled" }, secretScanningPushProtection: { status: "enabled" } },
    ...props,
  },
});

describePolicy({
  policy: githubRepositorySecurity,
  compliant: [
    { title: "a private repository with its security features", target: repository({}) },
    {
      title: "a public one where allowed",
      target: repository({ visibility: "public" }),
      config: { allowPublic: true },
    },
  ],
  violating: [
    {
      title: "no vulnerability alerts",
      target: repository({ vulnerabilityAlerts: false }),
      expect: "vulnerability alerts are off",
    },
    {
      title: "no secret scanning",
      target: repository({ securityAndAnalysis: { secretScanningPushProtection: { status: "enabled" } } }),
      expect: "secret scanning is off",
    },
    {
      title: "no push protection",
      target: repository({ securityAndAnalysis: { secretScanning: { status: "enabled" } } }),
      expect: "push protection is off",
    },
    {
      title: "public by default (no visibility given)",
      target: repository({ visibility: undefined }),
      expect: "is public",
    },
  ],
});

describe("policy applicability", () => {
  it("resource rules report other types as not applicable", async () => {
    const outcome = await runResourcePolicy(helmAtomic, { type: "kubernetes:core/v1:ConfigMap", props: {} });
    assert.deepEqual(outcome.violations, []);
    assert.match(outcome.notApplicable ?? "", /kubernetes:helm.sh\/v3:Release/);
  });

  it("data-service rules skip charts that hold no data", async () => {
    assert.match(
      (await runResourcePolicy(helmDataServices, release({ chart: "argo-rollouts" }))).notApplicable ?? "",
      /not a data service/,
    );
  });

  it("finds literal credentials anywhere in values, and only those", () => {
    assert.deepEqual(literalCredentials({ a: { token: "t", tokenSecretName: "s", nested: [{ secretKey: "k" }] } }), [
      "a.token",
      "a.nested[0].secretKey",
    ]);
    assert.deepEqual(literalCredentials({ configSecret: "am-config", clientSecret: "s3cr3t" }), ["clientSecret"]);
  });
});
