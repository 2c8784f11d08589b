import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import * as os from "node:os";
import {
  CONFIG_KEYS,
  ConfigError,
  offlinePlaceholder,
  parseConfig as parseStackConfig,
  placeholderRelease,
  plainSecretLeaves,
} from "../components/config";
import { PROJECT_ROOT, readStackConfig, runStack } from "./harness";
import { DOC_RAG_SERVICES } from "../components/services";

interface BadCase {
  what: string;
  overrides: string[];
  /** Every line of the error must be matched by one of these, and each must match a line. */
  expect: RegExp[];
}

/** Production's alert receivers, secrets as the stack's ESC environment provides them. */
const ALERTING = {
  "doc-rag:alertPagingUrl": "https://hooks.example.org/page",
  "doc-rag:alertChatUrl": "https://hooks.example.org/chat",
};

/** Staging's and production's registry credential, a secret as the stack's ESC environment provides it. */
const REGISTRY = { "doc-rag:registryAuth": '{"auths":{"ghcr.io":{"auth":"dXNlcjp0b2tlbg=="}}}' };

/** parseConfig with the alert receivers and the registry credential counted as secrets, as Pulumi marks them. */
const parseConfig = (
  raw: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
  stack = "",
  leaves: string[] = [],
) => parseStackConfig(raw, new Set([...secretKeys, ...Object.keys(ALERTING), ...Object.keys(REGISTRY)]), stack, leaves);

/** What staging and production need beside the environment and a cluster: Vault, a log sink, a release. */
const VAULT = {
  "doc-rag:vault": JSON.stringify({ address: "https://vault.example.org", kubernetesHost: "https://k8s.example.org" }),
  "doc-rag:observability": JSON.stringify({ logs: { host: "opensearch.example.org" } }),
  "doc-rag:release": JSON.stringify(placeholderRelease()),
  ...REGISTRY,
};
const PRODUCTION_MINIMUM = {
  "doc-rag:environment": "production",
  "doc-rag:kubeContext": "prod",
  ...VAULT,
  "doc-rag:postgres": JSON.stringify({
    instances: 3,
    backups: { enabled: true, destinationPath: "s3://backups/pg", region: "eu-central-1" },
  }),
  "doc-rag:valkey": JSON.stringify({ replicas: 1 }),
  ...ALERTING,
};

// Each case runs the real program for production with one or more keys made bad.
const BAD_CASES: BadCase[] = [
  {
    what: "a Kubernetes version with a leading zero (1.036 is no minor version)",
    overrides: ["doc-rag:kubernetesVersion=1.036"],
    expect: [/^doc-rag:kubernetesVersion: must be a Kubernetes minor version such as "1\.36" \(got "1\.036"\)$/],
  },
  {
    what: "a GitHub variable that would replace the program's own ENVIRONMENT (the release workflow's target)",
    overrides: ["doc-rag:github.variables.ENVIRONMENT=staging", "doc-rag:github.variables.PULUMI_ORGANIZATION=other"],
    expect: [
      /^doc-rag:github\.variables\.ENVIRONMENT: .*must not be set: the program sets ENVIRONMENT itself from doc-rag:environment/,
      /^doc-rag:github\.variables\.PULUMI_ORGANIZATION: .*must not be set: the program sets PULUMI_ORGANIZATION itself/,
    ],
  },
  {
    what: "production without Vault",
    overrides: ["doc-rag:vault=null"],
    expect: [/^doc-rag:vault: must be an object with keys among: address, .*\(got null\)$/],
  },
  {
    what: "a Vault address without TLS",
    overrides: ["doc-rag:vault.address=http://vault.doc-rag.io"],
    expect: [
      /^doc-rag:vault\.address: must be the https:\/\/ URL of the Vault server \(got "http:\/\/vault\.doc-rag\.io"\)$/,
    ],
  },
  {
    what: "a role token TTL above its max TTL",
    overrides: ["doc-rag:vault.tokenTtlSeconds=3600", "doc-rag:vault.tokenMaxTtlSeconds=900"],
    expect: [/^doc-rag:vault\.tokenTtlSeconds: must not exceed tokenMaxTtlSeconds \(900\) \(got 3600\)$/],
  },
  {
    what: "production PostgreSQL without backups or a standby",
    overrides: ["doc-rag:postgres.backups.enabled=false", "doc-rag:postgres.instances=1"],
    expect: [
      /^doc-rag:postgres\.backups\.enabled: must be true in production \(got false\)$/,
      /^doc-rag:postgres\.instances: must be at least 2 in production .*\(got 1\)$/,
    ],
  },
  {
    what: "backups without a destination",
    overrides: ["doc-rag:postgres.backups.destinationPath=https://backups.example.org"],
    expect: [
      /^doc-rag:postgres\.backups\.destinationPath: must be an s3:\/\/bucket\/path URL \(got "https:\/\/backups\.example\.org"\)$/,
    ],
  },
  {
    what: "a database request above its limit",
    overrides: ["doc-rag:postgres.resources.requests.memory=32Gi"],
    expect: [/^doc-rag:postgres\.resources\.requests\.memory: must not exceed limits\.memory \(16Gi\) \(got "32Gi"\)$/],
  },
  {
    what: "a production cache without replication",
    overrides: ["doc-rag:valkey.replicas=0"],
    expect: [/^doc-rag:valkey\.replicas: must be at least 1 in production \(replication\) \(got 0\)$/],
  },
  {
    what: "an egress network that is not a CIDR",
    overrides: ['doc-rag:egress.vault.cidrs=["vault.doc-rag.io"]'],
    expect: [/^doc-rag:egress\.vault\.cidrs\[0\]: must be a network in CIDR notation.*\(got "vault\.doc-rag\.io"\)$/],
  },
  {
    what: "a Vault token in plain text",
    overrides: ["doc-rag:vaultToken=hvs.plaintext-token"],
    expect: [
      /^doc-rag:vaultToken: must be set as a secret \(pulumi config set --secret doc-rag:vaultToken\); it is stored in plain text$/,
    ],
  },
  {
    what: "an unknown environment",
    overrides: ["doc-rag:environment=prod"],
    expect: [/^doc-rag:environment: must be one of: dev, staging, production \(got "prod"\)$/],
  },
  {
    what: "a misspelt top-level key",
    overrides: ["doc-rag:storageClas=fast-ssd"],
    expect: [/^doc-rag:storageClas: unknown key \(got "fast-ssd"\); allowed keys: environment, .*storageClass/],
  },
  {
    what: "a Kubernetes version older than Pod Security Admission",
    overrides: ["doc-rag:kubernetesVersion=1.24"],
    expect: [/^doc-rag:kubernetesVersion: must be 1\.25 or newer .*\(got "1\.24"\)$/],
  },
  {
    what: "a Kubernetes version that is not a minor version",
    overrides: ["doc-rag:kubernetesVersion=v1.36.2"],
    expect: [/^doc-rag:kubernetesVersion: must be a Kubernetes minor version such as "1\.36" \(got "v1\.36\.2"\)$/],
  },
  {
    what: "a storage class that is not a DNS label",
    overrides: ["doc-rag:storageClass=Fast_SSD"],
    expect: [/^doc-rag:storageClass: must be a DNS label.* \(got "Fast_SSD"\)$/],
  },
  {
    what: "a protection flag that is not a boolean",
    overrides: ["doc-rag:protectStatefulResources=yes"],
    expect: [/^doc-rag:protectStatefulResources: must be true or false \(got "yes"\)$/],
  },
  {
    what: "an empty kube context",
    overrides: ["doc-rag:kubeContext="],
    expect: [/^doc-rag:kubeContext: must not be empty \(got ""\)$/],
  },
  {
    what: "a quota value that is not a quantity",
    overrides: ['doc-rag:namespaces.application.quota["requests.cpu"]=lots'],
    expect: [
      /^doc-rag:namespaces\.application\.quota\["requests\.cpu"\]: must be a Kubernetes quantity .*\(got "lots"\)$/,
    ],
  },
  {
    what: "a quota request above its limit",
    overrides: ['doc-rag:namespaces.application.quota["requests.memory"]=400Gi'],
    expect: [
      /^doc-rag:namespaces\.application\.quota\["requests\.memory"\]: must not exceed limits\.memory \(330Gi\) \(got "400Gi"\)$/,
    ],
  },
  {
    what: "a quota key Kubernetes does not know",
    overrides: ["doc-rag:namespaces.data.quota.cpus=4"],
    expect: [/^doc-rag:namespaces\.data\.quota: unknown key "cpus"; allowed keys: requests\.cpu, /],
  },
  {
    what: "a fractional object count",
    overrides: ["doc-rag:namespaces.data.quota.services=2.5"],
    expect: [/^doc-rag:namespaces\.data\.quota\.services: must be a whole number of objects.* \(got 2\.5\)$/],
  },
  {
    what: "a default request above the default limit",
    overrides: ["doc-rag:namespaces.application.limits.defaultRequest.cpu=2"],
    expect: [
      /^doc-rag:namespaces\.application\.limits\.defaultRequest\.cpu: must not exceed default\.cpu \(1\) \(got "2"\)$/,
    ],
  },
  {
    what: "a Pod Security level that does not exist",
    overrides: ["doc-rag:namespaces.data.podSecurity.enforce=strict"],
    expect: [
      /^doc-rag:namespaces\.data\.podSecurity\.enforce: must be one of: privileged, baseline, restricted \(got "strict"\)$/,
    ],
  },
  {
    what: "a lowered Pod Security level without a reason",
    overrides: ["doc-rag:namespaces.monitoring.podSecurity.enforce=baseline"],
    expect: [/^doc-rag:namespaces\.monitoring\.podSecurity\.reason: is required; .*enforce is below restricted/],
  },
  {
    what: "an audit level looser than enforce",
    overrides: [
      "doc-rag:namespaces.monitoring.podSecurity.enforce=baseline",
      "doc-rag:namespaces.monitoring.podSecurity.audit=privileged",
      "doc-rag:namespaces.monitoring.podSecurity.reason=node-exporter reads host metrics",
    ],
    expect: [
      /^doc-rag:namespaces\.monitoring\.podSecurity\.audit: must be at least as strict as enforce \(baseline\).* \(got "privileged"\)$/,
    ],
  },
  {
    what: "two roles sharing one namespace",
    overrides: ["doc-rag:namespaces.data.name=doc-rag-prod"],
    expect: [
      /^doc-rag:namespaces\.data\.name: is already the name of the application namespace.* \(got "doc-rag-prod"\)$/,
    ],
  },
  {
    what: "a namespace role that does not exist",
    overrides: ["doc-rag:namespaces.cache.name=doc-rag-cache"],
    expect: [
      /^doc-rag:namespaces: unknown key "cache"; allowed keys: application, data, monitoring, security, delivery, gateway, nodeAgents$/,
    ],
  },
  {
    what: "a namespace name that is not a DNS label",
    overrides: ["doc-rag:namespaces.gateway.name=Gateway"],
    expect: [/^doc-rag:namespaces\.gateway\.name: must be a DNS label.* \(got "Gateway"\)$/],
  },
  {
    what: "an object key given a plain string",
    overrides: ["doc-rag:namespaces=all"],
    expect: [/^doc-rag:namespaces: must be an object with keys among: application, data, .* \(got "all"\)$/],
  },
  {
    what: "a DNS namespace that is not a DNS label",
    overrides: ["doc-rag:clusterDns.namespace=Kube System"],
    expect: [/^doc-rag:clusterDns\.namespace: must be a DNS label.* \(got "Kube System"\)$/],
  },
  {
    what: "a DNS pod label that is not a string",
    overrides: ['doc-rag:clusterDns.podLabels["k8s-app"]=5'],
    expect: [/^doc-rag:clusterDns\.podLabels\.k8s-app: must be a string \(got 5\)$/],
  },
];

describe("stack config validation", () => {
  for (const bad of BAD_CASES) {
    it(`rejects ${bad.what}, naming the key and value, before any resource exists`, async () => {
      const run = await runStack("production", { overrides: bad.overrides });
      assert.ok(ConfigError.is(run.error), `expected a ConfigError, got ${run.error?.message ?? "success"}`);
      assert.equal(run.resources.length, 0, "nothing may be registered when the config is bad");
      for (const pattern of bad.expect) {
        assert.ok(
          run.error.problems.some((p) => pattern.test(p)),
          `no problem matches ${pattern}:\n${run.error.problems.join("\n")}`,
        );
      }
    });
  }

  it("reports every bad key in one error", async () => {
    const run = await runStack("staging", {
      overrides: [
        "doc-rag:environment=qa",
        "doc-rag:kubernetesVersion=1.20",
        'doc-rag:namespaces.data.quota["limits.cpu"]=-1',
        "doc-rag:namespaces.delivery.stateful=maybe",
      ],
    });
    assert.ok(ConfigError.is(run.error));
    assert.deepEqual(
      run.error.problems.map((p) => p.split(":").slice(0, 2).join(":")),
      [
        "doc-rag:environment",
        "doc-rag:kubernetesVersion",
        'doc-rag:namespaces.data.quota["limits.cpu"]',
        "doc-rag:namespaces.delivery.stateful",
      ],
    );
    assert.match(run.error.message, /^Invalid stack configuration \(4 problems\):\n {2}- doc-rag:environment/);
    assert.equal(run.resources.length, 0);
  });

  it("requires a target cluster outside dev, so nothing deploys to the current context by accident", async () => {
    const dev = await runStack("dev", { overrides: ["doc-rag:kubeContext="] });
    assert.match(dev.error?.message ?? "", /doc-rag:kubeContext: must not be empty/);
    const staging = parseConfigOf({ "doc-rag:environment": "staging" });
    assert.match(staging, /doc-rag:kubeContext: is required; must be set \(or kubeconfig\) in staging/);
    assert.doesNotThrow(() =>
      parseConfig(
        { "doc-rag:environment": "staging", "doc-rag:kubeconfig": "/etc/kube", ...VAULT },
        new Set(["doc-rag:kubeconfig"]),
      ),
    );
  });

  it("requires the environment", () => {
    assert.match(parseConfigOf({}), /doc-rag:environment: is required; must be one of: dev, staging, production/);
  });

  it("keeps Vault out of dev, which keeps its secrets in Kubernetes Secrets", () => {
    assert.match(
      parseConfigOf({ "doc-rag:environment": "dev", ...VAULT }),
      /- doc-rag:vault: must not be set in dev: dev keeps its secrets in Kubernetes Secrets \(got \{/,
    );
    assert.match(
      parseConfigOf({ "doc-rag:environment": "staging", "doc-rag:kubeContext": "s" }),
      /- doc-rag:vault: is required; must be set in staging: its secrets live in Vault$/m,
    );
  });

  it("refuses staging or production without digests (nothing resolves a tag at preview), naming how to set them", () => {
    const noRelease: Record<string, string> = { ...PRODUCTION_MINIMUM };
    delete noRelease["doc-rag:release"];
    const message = parseConfigOf(noRelease);
    assert.match(
      message,
      /^ {2}- doc-rag:release: is required; must be set in production, or services\.<name>\.image\.digest for api, chunker, embedder, retriever, query-processor, response-generator: /m,
    );
    assert.match(message, /pulumi config set --path 'doc-rag:services\.api\.image\.digest' sha256:<64 hex digits>/);
    const digests = Object.fromEntries(
      DOC_RAG_SERVICES.map((s) => [s, { image: { digest: `sha256:${"b".repeat(64)}` } }]),
    );
    const pinned = parseConfig({ ...noRelease, "doc-rag:services": JSON.stringify(digests) });
    assert.equal(pinned.services.api.image.digest, `sha256:${"b".repeat(64)}`);
    // dev runs a tag it has no digest for: a laptop's kind cluster runs images no registry serves.
    assert.equal(parseConfig({ "doc-rag:environment": "dev" }).services.api.image.digest, undefined);
  });

  it("stands in for the release of a stack file's ESC environment offline, and says so", () => {
    const input = readStackConfig(PROJECT_ROOT, "production");
    assert.deepEqual(input.environments, [
      "doc-rag/production-release",
      "doc-rag/production-alerting",
      "doc-rag/production-registry",
    ]);
    // The alert receivers it imports are secrets: placeholders that pass their schema.
    assert.ok(input.secretKeys.includes("doc-rag:alertPagingUrl") && input.secretKeys.includes("doc-rag:alertChatUrl"));
    const release = JSON.parse(input.config["doc-rag:release"] ?? "{}") as { version: string };
    assert.deepEqual(release, placeholderRelease());
    assert.deepEqual(readStackConfig(PROJECT_ROOT, "dev").environments, []);
    assert.equal(readStackConfig(PROJECT_ROOT, "dev").config["doc-rag:release"], undefined);
  });

  it("accepts the Vault token as a secret and never prints a secret value", () => {
    const token = "hvs.do-not-print-me";
    const withToken = { ...PRODUCTION_MINIMUM, "doc-rag:vaultToken": token };
    assert.equal(parseConfig(withToken, new Set(["doc-rag:vaultToken"])).vaultToken, token);
    const misspelt = { ...PRODUCTION_MINIMUM, "doc-rag:vaultTokn": token, "doc-rag:vaultToken": "" };
    const message = parseConfigOf(misspelt, new Set(["doc-rag:vaultTokn", "doc-rag:vaultToken"]));
    assert.match(message, /doc-rag:vaultTokn: unknown key \(got \[secret\]\)/);
    assert.match(message, /doc-rag:vaultToken: must not be empty \(got \[secret\]\)/);
    assert.doesNotMatch(message, /do-not-print-me/);
  });

  it("fills data-service defaults that fit a laptop, and production's from its stack file", async () => {
    const dev = parseConfig({ "doc-rag:environment": "dev" });
    assert.equal(dev.postgres.instances, 1);
    assert.equal(dev.postgres.backups.enabled, false);
    assert.equal(dev.valkey.replicas, 0);
    assert.match(
      parseConfigOf({ "doc-rag:environment": "dev", "doc-rag:postgres": '{"backups": {"enabled": true}}' }),
      /doc-rag:postgres\.backups\.destinationPath: is required; must be set when backups are enabled/,
    );
    assert.deepEqual(dev.egress.kubernetesApi, { cidrs: ["0.0.0.0/0"], ports: [443, 6443] });
    const run = await runStack("production", { overrides: ["doc-rag:vault.tokenTtlSeconds=59"] });
    assert.match(run.error?.message ?? "", /doc-rag:vault\.tokenTtlSeconds: must be at least 60 \(got 59\)/);
    assert.equal(run.resources.length, 0);
  });

  it("ignores other packages' keys", () => {
    const config = parseConfig({ "doc-rag:environment": "dev", "kubernetes:context": "elsewhere" });
    assert.equal(config.environment, "dev");
  });

  it("fills defaults: restricted namespaces, a small quota, protection outside dev", () => {
    const dev = parseConfig({ "doc-rag:environment": "dev" });
    assert.equal(dev.protectStatefulResources, false);
    assert.equal(dev.clusterName, "doc-rag-dev");
    assert.equal(dev.kubernetesVersion, "1.36");
    assert.deepEqual(dev.namespaces.application.podSecurity, {
      enforce: "restricted",
      audit: "restricted",
      warn: "restricted",
    });
    assert.equal(dev.namespaces.data.name, "doc-rag-data");
    assert.equal(dev.namespaces.data.stateful, true);
    assert.equal(dev.namespaces.gateway.stateful, false);
    assert.equal(dev.namespaces.application.quota["limits.memory"], "8Gi");
    assert.deepEqual(dev.clusterDns, { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } });
    const production = parseConfig(PRODUCTION_MINIMUM);
    assert.equal(production.protectStatefulResources, true);
  });

  it("accepts numbers for quantities and counts, as YAML writes them", () => {
    const config = parseConfig({
      "doc-rag:environment": "dev",
      "doc-rag:namespaces": JSON.stringify({
        data: { quota: { "requests.cpu": 1.5, "limits.cpu": 4, pods: 30 } },
      }),
    });
    assert.deepEqual(config.namespaces.data.quota, { "requests.cpu": "1.5", "limits.cpu": "4", pods: "30" });
  });
});

describe("Pulumi.yaml documents every config key, and the real CLI requires only what the schema does", () => {
  const projectFile = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
  const declared = (
    parse(projectFile) as { config: Record<string, { type: string; description: string; default?: unknown }> }
  ).config;

  for (const [name, key] of Object.entries(CONFIG_KEYS)) {
    // The CLI refuses a stack that lacks a declared key without a default ("missing configuration
    // values"), so a key is declared only if the schema requires it or gives it a default.
    const unset = key.schema.safeParse(undefined);
    const required = !unset.success;
    const schemaDefault = unset.success ? unset.data : undefined;
    it(`documents ${name} with its type and description${required ? " (required)" : ""}`, () => {
      if (key.kind === "object") {
        // Pulumi's project schema has no object type: object keys are listed in a comment.
        assert.ok(
          projectFile.includes(`#   ${name} (object): ${key.description}`),
          `Pulumi.yaml lacks the comment line for object key ${name}`,
        );
      } else if (required || schemaDefault !== undefined) {
        assert.deepEqual(declared[name], {
          type: key.kind,
          description: key.description,
          ...(schemaDefault !== undefined ? { default: schemaDefault } : {}),
          ...(key.secret ? { secret: true } : {}),
        });
      } else {
        assert.equal(declared[name], undefined, `${name} is optional: declared, the CLI would require it`);
        const kind = key.secret ? `${key.kind}, secret` : key.kind;
        assert.ok(
          projectFile.includes(`#   ${name} (${kind}): ${key.description}`),
          `Pulumi.yaml lacks the comment line for optional key ${name}`,
        );
      }
    });
  }

  it("declares no key the program does not read", () => {
    assert.deepEqual(
      Object.keys(declared).filter((k) => !(k in CONFIG_KEYS)),
      [],
    );
  });
});

function parseConfigOf(raw: Record<string, string>, secretKeys?: ReadonlySet<string>): string {
  try {
    parseConfig(raw, secretKeys);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
}

describe("secrets set the documented ways, offline", () => {
  it("every secret key's offline placeholder passes the key's own schema (so the plan validates as the real one)", () => {
    for (const [name, key] of Object.entries(CONFIG_KEYS).filter(([, k]) => k.secret)) {
      const placeholder = offlinePlaceholder(`doc-rag:${name}`);
      assert.ok(key.schema.safeParse(placeholder).success, `${name}: ${JSON.stringify(placeholder)}`);
    }
  });

  it("reads secure: values whole and per leaf (--secret --path) from a stack file, and the plan validates", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "secure-stack-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: doc-rag\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(root, "Pulumi.production.yaml"),
      [
        "config:",
        "  doc-rag:alertPagingUrl: { secure: v1:AAAA }",
        "  doc-rag:alertChatUrl: { secure: v1:BBBB }",
        "  doc-rag:githubEnvironmentSecrets:",
        "    PULUMI_ACCESS_TOKEN: { secure: v1:CCCC }",
        "    KUBECONFIG: { secure: v1:DDDD }",
        "",
      ].join("\n"),
    );
    const input = readStackConfig(root, "production");
    assert.deepEqual(input.secretKeys.sort(), [
      "doc-rag:alertChatUrl",
      "doc-rag:alertPagingUrl",
      "doc-rag:githubEnvironmentSecrets",
    ]);
    const config = parseConfig({ ...PRODUCTION_MINIMUM, ...input.config }, new Set(input.secretKeys), "production");
    assert.equal(config.alertPagingUrl, "https://placeholder.invalid/alert-paging");
    assert.deepEqual(Object.keys(config.githubEnvironmentSecrets ?? {}), ["PULUMI_ACCESS_TOKEN", "KUBECONFIG"]);
    // Set whole with --secret, an object key is a placeholder that its schema takes.
    fs.writeFileSync(
      path.join(root, "Pulumi.staging.yaml"),
      "config:\n  doc-rag:githubEnvironmentSecrets: { secure: v1:EEEE }\n",
    );
    const whole = readStackConfig(root, "staging");
    assert.doesNotThrow(() =>
      parseConfig({ ...PRODUCTION_MINIMUM, ...whole.config }, new Set(whole.secretKeys), "production"),
    );
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("reports a leaf left in plain text beside secure ones, by its path, without its value", () => {
    const leaves = plainSecretLeaves({
      "doc-rag:githubEnvironmentSecrets": { A: { secure: "v1:x" }, B: "plain-value" },
      "doc-rag:vaultToken": { secure: "v1:y" },
      "doc-rag:github": { owner: "doc-rag" },
    });
    assert.deepEqual(leaves, ["doc-rag:githubEnvironmentSecrets.B"]);
    const message = (() => {
      try {
        parseConfig(PRODUCTION_MINIMUM, new Set(), "production", leaves);
        return "";
      } catch (err) {
        return (err as Error).message;
      }
    })();
    assert.match(
      message,
      /doc-rag:githubEnvironmentSecrets\.B: must be set as a secret \(pulumi config set --secret --path/,
    );
    assert.doesNotMatch(message, /plain-value/);
  });

  it("a single nested resource keeps the other's default (pulumi config set --path ...limits.memory)", () => {
    const config = parseConfig({
      "doc-rag:environment": "dev",
      "doc-rag:services": JSON.stringify({ api: { resources: { limits: { memory: "2Gi" } } } }),
    });
    assert.deepEqual(config.services.api.resources.limits, { cpu: "2", memory: "2Gi" });
  });
});

describe("keys that can never be config keys, as a stack file would hand them to the program", () => {
  it("refuses __proto__, constructor and prototype at the top and inside values, and uses none of their values", () => {
    // JSON.parse makes "__proto__" an own key, as Pulumi's config map does; an object literal would not.
    const raw = JSON.parse(
      '{"doc-rag:environment":"dev","doc-rag:__proto__":"{\\"vaultToken\\":\\"x\\"}","doc-rag:constructor":"1","doc-rag:clusterDns":"{\\"podLabels\\":{\\"prototype\\":\\"x\\"}}"}',
    ) as Record<string, string>;
    let message = "";
    try {
      parseConfig(raw);
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /doc-rag:__proto__: is not allowed: "__proto__" can never be a config key/);
    assert.match(message, /doc-rag:constructor: is not allowed: "constructor" can never be a config key/);
    assert.match(message, /doc-rag:clusterDns\.podLabels\.prototype: is not allowed/);
    assert.equal(({} as Record<string, unknown>)["vaultToken"], undefined);
  });
});
