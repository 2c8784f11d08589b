import * as assert from "node:assert/strict";
import { policyPaths } from "../policies/vault";
import { CONFIG_KEYS } from "../components/config";
import {
  fakeValue,
  find,
  isSecret,
  ofType,
  runStack,
  unwrapSecrets,
  type RecordedResource,
  type StackRun,
} from "./harness";

const HELM = "kubernetes:helm.sh/v3:Release";
const SECRET_STORE = "kubernetes:external-secrets.io/v1:SecretStore";
const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";
const K8S_SECRET = "kubernetes:core/v1:Secret";

const inputs = <T>(r: RecordedResource) => unwrapSecrets<T>(r.inputs);

/** Every URN a resource waits for, directly or through others. */
function waitsFor(run: StackRun, resource: RecordedResource): Set<string> {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [...resource.dependencies];
  for (let urn = stack.pop(); urn; urn = stack.pop()) {
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependencies ?? []));
  }
  return seen;
}

/** Strings outside any secret wrapper that contain one of the needles, with their path. */
function plaintext(value: unknown, needles: string[], path = ""): string[] {
  if (isSecret(value)) return [];
  if (typeof value === "string") return needles.some((n) => value.includes(n)) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintext(v, needles, `${path}[${i}]`));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => plaintext(v, needles, `${path}.${k}`));
  return [];
}

/** The values the mock provider generated for this run's RandomPasswords. */
function generatedValues(run: StackRun): string[] {
  return ofType(run, "random:index/randomPassword:RandomPassword").map((r) => fakeValue("password", r.name));
}

describe("secrets: Vault and External Secrets (staging, production)", () => {
  let production: StackRun;
  before(async () => {
    production = await runStack("production");
    assert.equal(production.error, undefined, production.error?.message);
  });

  it("configures the Vault provider from stack config, with the token from the environment by default", async () => {
    const provider = find(production, "pulumi:providers:vault", "secrets-vault-provider");
    assert.equal(provider.inputs["address"], "https://vault.doc-rag.io");
    assert.equal(provider.inputs["token"], undefined, "no token in config: the provider reads VAULT_TOKEN");
    const staging = await runStack("staging", { secretOverrides: ["doc-rag:vaultToken=hvs.staging-token"] });
    const stagingProvider = find(staging, "pulumi:providers:vault", "secrets-vault-provider");
    assert.equal(stagingProvider.inputs["namespace"], "staging");
    assert.ok(isSecret(stagingProvider.inputs["token"]), "a token from config stays a secret");
    assert.equal(unwrapSecrets(stagingProvider.inputs["token"]), "hvs.staging-token");
  });

  it("mounts KV version 2 at secret and writes the original document's four paths and Grafana's login", () => {
    assert.deepEqual(find(production, "vault:index/mount:Mount", "secrets-vault-kv").inputs, {
      path: "secret",
      type: "kv",
      options: { version: "2" },
      description: "Doc-RAG platform secrets (KV v2)",
    });
    const secrets = ofType(production, "vault:kv/secretV2:SecretV2");
    assert.deepEqual(secrets.map((s) => s.inputs["name"]).sort(), [
      "doc-rag/auth",
      "doc-rag/database",
      "doc-rag/grafana",
      "doc-rag/qdrant",
      "doc-rag/redis",
      "doc-rag/registry",
    ]);
    const data = Object.fromEntries(
      secrets.map((s) => {
        assert.ok(isSecret(s.inputs["dataJson"]), `${String(s.inputs["name"])}: dataJson must be secret`);
        return [s.inputs["name"], JSON.parse(unwrapSecrets<string>(s.inputs["dataJson"]))];
      }),
    ) as Record<string, Record<string, string>>;
    const db = fakeValue("password", "secrets-generated-database");
    assert.deepEqual(data["doc-rag/database"], {
      url: `postgresql://docrag:${db}@doc-rag-postgres-rw.doc-rag-prod-data.svc.cluster.local:5432/docrag?sslmode=require`,
      username: "docrag",
      password: db,
    });
    assert.deepEqual(data["doc-rag/redis"], { password: fakeValue("password", "secrets-generated-redis") });
    assert.deepEqual(data["doc-rag/auth"], { "jwt-secret": fakeValue("password", "secrets-generated-jwt") });
    assert.deepEqual(data["doc-rag/qdrant"], { "api-key": fakeValue("password", "secrets-generated-qdrant") });
    assert.deepEqual(data["doc-rag/grafana"], {
      "admin-user": "admin",
      "admin-password": fakeValue("password", "secrets-generated-grafana"),
    });
    // The registry credential is the one configured (here ESC's placeholder offline), never generated.
    assert.deepEqual(data["doc-rag/registry"], { dockerconfigjson: CONFIG_KEYS.registryAuth.placeholder });
  });

  it("generates every value with an explicit strength", () => {
    const strength = Object.fromEntries(
      ofType(production, "random:index/randomPassword:RandomPassword").map((r) => [
        r.name.replace("secrets-generated-", ""),
        [r.inputs["length"], r.inputs["special"]],
      ]),
    );
    assert.deepEqual(strength, {
      database: [32, false],
      redis: [32, false],
      jwt: [64, true],
      qdrant: [48, false],
      grafana: [32, false],
    });
  });

  it("grants read on exactly those paths, and nothing else", async () => {
    const policy = find(production, "vault:index/policy:Policy", "secrets-vault-read-policy");
    assert.equal(policy.inputs["name"], "doc-rag-read");
    const paths = await policyPaths("doc-rag-read", policy.inputs["policy"] as string);
    assert.deepEqual(
      Object.fromEntries(Object.entries(paths).map(([p, rules]) => [p, rules.flatMap((r) => r.capabilities)])),
      {
        "secret/data/doc-rag/database": ["read"],
        "secret/data/doc-rag/redis": ["read"],
        "secret/data/doc-rag/auth": ["read"],
        "secret/data/doc-rag/qdrant": ["read"],
        "secret/data/doc-rag/grafana": ["read"],
        "secret/data/doc-rag/registry": ["read"],
      },
    );
  });

  it("binds doc-rag-role to External Secrets' service account and namespace, with bounded TTLs", () => {
    const auth = find(production, "vault:index/authBackend:AuthBackend", "secrets-vault-kubernetes-auth");
    assert.equal(auth.inputs["path"], "kubernetes");
    assert.equal(auth.inputs["type"], "kubernetes");
    const config = find(
      production,
      "vault:kubernetes/authBackendConfig:AuthBackendConfig",
      "secrets-vault-kubernetes-auth-config",
    );
    assert.equal(config.inputs["kubernetesHost"], "https://k8s.prod.doc-rag.io:6443");
    const role = find(production, "vault:kubernetes/authBackendRole:AuthBackendRole", "secrets-vault-role");
    assert.deepEqual(
      {
        roleName: role.inputs["roleName"],
        names: role.inputs["boundServiceAccountNames"],
        namespaces: role.inputs["boundServiceAccountNamespaces"],
        policies: role.inputs["tokenPolicies"],
        ttl: role.inputs["tokenTtl"],
        maxTtl: role.inputs["tokenMaxTtl"],
      },
      {
        roleName: "doc-rag-role",
        names: ["external-secrets"],
        namespaces: ["doc-rag-prod-security"],
        policies: ["doc-rag-read"],
        ttl: 600,
        maxTtl: 3600,
      },
    );
  });

  it("installs External Secrets from a pinned chart, highly available in production", async () => {
    const release = find(production, HELM, "secrets-operator-release");
    const values = release.inputs["values"] as Record<string, unknown>;
    assert.deepEqual(
      [release.inputs["chart"], release.inputs["version"], release.inputs["namespace"], release.inputs["atomic"]],
      ["external-secrets", "2.8.0", "doc-rag-prod-security", true],
    );
    assert.deepEqual((release.inputs["repositoryOpts"] as { repo: string }).repo, "https://charts.external-secrets.io");
    assert.equal(values["installCRDs"], true);
    assert.deepEqual(values["serviceAccount"], { create: true, name: "external-secrets" });
    assert.equal(values["systemAuthDelegator"], true);
    assert.equal(values["processClusterStore"], false);
    // Rendered whatever Helm's view of the cluster's kinds on a first deploy; the CRD is there first.
    assert.deepEqual(values["serviceMonitor"], { enabled: true, renderMode: "alwaysRender" });
    const crds = find(production, HELM, "addons-prometheus-operator-crds");
    assert.ok(release.options.dependsOn.includes(crds.urn), "installs after the monitoring CRDs");
    assert.equal(values["replicaCount"], 2);
    assert.equal(values["leaderElect"], true);
    const staging = await runStack("staging");
    assert.equal(
      (find(staging, HELM, "secrets-operator-release").inputs["values"] as Record<string, unknown>)["replicaCount"],
      1,
    );
  });

  it("declares the SecretStore vault-backend as the original document does, in each receiving namespace", () => {
    const stores = ofType(production, SECRET_STORE);
    assert.deepEqual(stores.map((s) => (s.inputs["metadata"] as { namespace: string }).namespace).sort(), [
      "doc-rag-prod",
      "doc-rag-prod-data",
      "doc-rag-prod-monitoring",
    ]);
    for (const store of stores) {
      assert.deepEqual(inputs<{ metadata: { name: string }; spec: unknown }>(store).metadata.name, "vault-backend");
      assert.deepEqual(store.inputs["spec"], {
        provider: {
          vault: {
            server: "https://vault.doc-rag.io",
            path: "secret",
            version: "v2",
            auth: { kubernetes: { mountPath: "kubernetes", role: "doc-rag-role" } },
          },
        },
      });
    }
  });

  it("syncs doc-rag-secrets every 10m into a Secret it owns, keys mapped as the original document maps them", () => {
    const es = ofType(production, EXTERNAL_SECRET).find(
      (r) => (r.inputs["metadata"] as { name: string }).name === "doc-rag-secrets",
    )!;
    assert.equal((es.inputs["metadata"] as { namespace: string }).namespace, "doc-rag-prod");
    assert.deepEqual(es.inputs["spec"], {
      refreshInterval: "10m",
      secretStoreRef: { name: "vault-backend", kind: "SecretStore" },
      target: { name: "doc-rag-secrets", creationPolicy: "Owner" },
      data: [
        { secretKey: "database-url", remoteRef: { key: "doc-rag/database", property: "url" } },
        { secretKey: "redis-password", remoteRef: { key: "doc-rag/redis", property: "password" } },
        { secretKey: "jwt-secret", remoteRef: { key: "doc-rag/auth", property: "jwt-secret" } },
        { secretKey: "qdrant-api-key", remoteRef: { key: "doc-rag/qdrant", property: "api-key" } },
      ],
    });
  });

  it("makes every custom resource wait for the release that installs its CRD, and for Vault", () => {
    const release = find(production, HELM, "secrets-operator-release");
    const role = find(production, "vault:kubernetes/authBackendRole:AuthBackendRole", "secrets-vault-role");
    for (const cr of [...ofType(production, SECRET_STORE), ...ofType(production, EXTERNAL_SECRET)]) {
      assert.ok(cr.options.dependsOn.includes(release.urn), `${cr.name} depends on the operator release`);
      assert.ok(waitsFor(production, cr).has(role.urn), `${cr.name} waits for the Vault role`);
    }
  });
});

describe("secrets: dev has no Vault", () => {
  it("creates no Vault or External Secrets resource, and the same Secrets directly", async () => {
    const [dev, production] = await Promise.all([runStack("dev"), runStack("production")]);
    const foreign = dev.resources.filter(
      (r) =>
        r.type.startsWith("vault:") ||
        r.type.startsWith("pulumi:providers:vault") ||
        r.type.includes("external-secrets.io") ||
        (r.type === HELM && r.inputs["chart"] === "external-secrets"),
    );
    assert.deepEqual(
      foreign.map((r) => r.type),
      [],
    );
    assert.equal(dev.outputs["secretsBackend"], "kubernetes");
    assert.equal(production.outputs["secretsBackend"], "vault");

    // Workloads are wired identically: same Secret names, in the same roles' namespaces, with the same keys.
    const roleOf = (run: StackRun, namespace: string) =>
      Object.entries(run.outputs["namespaces"] as Record<string, string>).find(([, n]) => n === namespace)?.[0];
    const devSecrets = ofType(dev, K8S_SECRET)
      .filter((s) => s.name.startsWith("secrets-"))
      .map((s) => {
        const { metadata, stringData } = inputs<{ metadata: { name: string; namespace: string }; stringData: object }>(
          s,
        );
        return [roleOf(dev, metadata.namespace), metadata.name, Object.keys(stringData).sort()];
      });
    const synced = ofType(production, EXTERNAL_SECRET).map((s) => {
      const { metadata, spec } = inputs<{
        metadata: { name: string; namespace: string };
        spec: { data: { secretKey: string }[] };
      }>(s);
      return [roleOf(production, metadata.namespace), metadata.name, spec.data.map((d) => d.secretKey).sort()];
    });
    const byName = (a: unknown[], b: unknown[]) => String(a[1]).localeCompare(String(b[1]));
    assert.deepEqual(devSecrets.sort(byName), synced.sort(byName));
    assert.equal(devSecrets.length, 6);
    // Dev pulls kind-loaded images: a registry Secret without credentials, which the API server accepts.
    const registry = find(dev, K8S_SECRET, "secrets-registry");
    assert.equal(registry.inputs["type"], "kubernetes.io/dockerconfigjson");
    assert.equal(
      unwrapSecrets<Record<string, string>>(registry.inputs["stringData"])[".dockerconfigjson"],
      '{"auths":{}}',
    );
    const pg = find(dev, K8S_SECRET, "secrets-postgres");
    assert.equal(pg.inputs["type"], "kubernetes.io/basic-auth");
  });
});

describe("secrets: no generated value in plain text", () => {
  for (const stack of ["dev", "staging", "production"]) {
    it(`${stack}: every input and output holds the generated values only inside secrets`, async () => {
      const run = await runStack(stack);
      const values = generatedValues(run);
      assert.equal(values.length, 5);
      const leaks = [
        ...run.resources.flatMap((r) => plaintext(r.inputs, values, `${r.type} ${r.name}`)),
        ...plaintext(run.outputs, values, "outputs"),
      ];
      assert.deepEqual(leaks, []);
      // ...and the scan would have found them: each value is written somewhere, as a secret.
      const everything = JSON.stringify(unwrapSecrets(run.resources.map((r) => r.inputs)));
      for (const value of values) assert.ok(everything.includes(value), `${value} is delivered`);
    });
  }

  it("finds a value that escapes, so the scan above can fail", () => {
    assert.deepEqual(plaintext({ a: { b: "x-mock-password-y" }, c: ["mock-password"] }, ["mock-password"]), [
      ".a.b",
      ".c[0]",
    ]);
  });
});

describe("secrets: the private registry's pull credential", () => {
  it("every service pod pulls with the delivered registry Secret, typed as kubelet reads it", async () => {
    const production = await runStack("production");
    const registry = ofType(production, EXTERNAL_SECRET).find((s) => s.name === "secrets-registry")!;
    const spec = inputs<{ spec: { target: { name: string; template: { type: string } } } }>(registry).spec;
    assert.deepEqual(
      [spec.target.name, spec.target.template.type],
      ["doc-rag-registry", "kubernetes.io/dockerconfigjson"],
    );
    const pods = production.resources.filter((r) => r.type === "kubernetes:argoproj.io/v1alpha1:Rollout");
    assert.equal(pods.length, 6);
    for (const rollout of pods)
      assert.deepEqual(
        (rollout.inputs["spec"] as { template: { spec: { imagePullSecrets: unknown } } }).template.spec
          .imagePullSecrets,
        [{ name: "doc-rag-registry" }],
        rollout.name,
      );
  });

  it("is required in staging and production, and must be a Docker config JSON", async () => {
    const missing = await runStack("staging", { overrides: ["doc-rag:registryAuth="] });
    assert.match(missing.error?.message ?? "", /doc-rag:registryAuth: /);
    const bad = await runStack("production", { secretOverrides: ['doc-rag:registryAuth={"registries":{}}'] });
    assert.match(bad.error?.message ?? "", /doc-rag:registryAuth: must hold an "auths" object/);
    assert.doesNotMatch(bad.error?.message ?? "", /registries/, "a secret is never echoed");
    assert.equal(bad.resources.length, 0);
  });
});
