/**
 * Hostile and mistaken input, one table: each case is what a careless or a hostile user types,
 * the exit code it must give, the parts its message must name (key, value, rule), and that it
 * writes nothing.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main as plan } from "../tools/plan";
import { main as check } from "../tools/policyCheck";
import { captureConsole } from "./harness/console";
import { launch } from "./harness/tools";

interface Case {
  /** What the user typed: `npm run <tool> -- <argv>`. */
  tool: "plan" | "policy:check";
  argv: string[];
  code: number;
  /** Each must appear in what the command printed (stderr and stdout). */
  names: (string | RegExp)[];
  /** Must not appear (a secret's value). */
  hides?: string[];
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-"));
const OUT = path.join(root, "out");
const file = (name: string, text: string) => {
  const p = path.join(root, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const long = (n: number) => "a".repeat(n);
/** `npm run plan -- production --config <setting>`: a config error names the key, the value and the rule. */
const config = (setting: string, names: (string | RegExp)[], stack = "production"): Case => ({
  tool: "plan",
  argv: [stack, "--out", OUT, "--config", setting],
  code: 1,
  names,
});

const pod = (spec: Record<string, unknown>, namespace = "apps") => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "c",
        image: "registry.example/app@sha256:" + "a".repeat(64),
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
    ...spec,
  },
});
const namespace = (version: string) => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce-version": version } },
});
const sysctlPod = pod({
  securityContext: { runAsNonRoot: true, sysctls: [{ name: "net.ipv4.tcp_notsent_lowat", value: "1" }] },
});

const CASES: Case[] = [
  // Keys that can never be config keys, at the top, inside a value, in a --config path.
  config('doc-rag:__proto__={"vaultToken":"x"}', ["__proto__", "can never be a config key", "nothing was set"]),
  config("doc-rag:constructor=1", ["constructor", "can never be a config key"]),
  config("doc-rag:toString=1", ["doc-rag:toString", "unknown key", "allowed keys"]),
  config("doc-rag:github.__proto__.owner=x", ["__proto__", "can never be a config key"]),
  config('doc-rag:github={"__proto__":{"owner":"x"}}', ["doc-rag:github.__proto__", "can never be a config key"]),
  config('doc-rag:namespaces={"constructor":{}}', ["doc-rag:namespaces.constructor", "can never be a config key"]),
  config("doc-rag:nonsense=1", ["doc-rag:nonsense", "unknown key", "allowed keys"]),
  // Secrets in plain text: named, never echoed.
  {
    ...config("doc-rag:vaultToken=s3cr3t-token", ["doc-rag:vaultToken", "must be set as a secret"]),
    hides: ["s3cr3t-token"],
  },
  {
    ...config("doc-rag:kubeconfig=/home/me/.kube/config", ["doc-rag:kubeconfig", "must be set as a secret"]),
    hides: ["/home/me"],
  },
  config('doc-rag:githubEnvironmentSecrets={"TOKEN":"abc"}', [
    "doc-rag:githubEnvironmentSecrets",
    "must be set as a secret",
  ]),
  config("doc-rag:alertPagingUrl=https://hooks.example/x", ["doc-rag:alertPagingUrl", "must be set as a secret"]),
  // Namespaces Kubernetes keeps for itself, and names that are no DNS labels.
  config("doc-rag:namespaces.application.name=kube-system", [
    "namespaces.application.name",
    '"kube-system"',
    "Kubernetes keeps for itself",
  ]),
  config("doc-rag:namespaces.data.name=default", ["namespaces.data.name", '"default"', "Kubernetes keeps for itself"]),
  config("doc-rag:namespaces.monitoring.name=kube-public", [
    "namespaces.monitoring.name",
    "kube-public",
    "default-deny",
  ]),
  config("doc-rag:namespaces.application.name=Doc_Rag", ["namespaces.application.name", "Doc_Rag", "DNS label"]),
  config(`doc-rag:namespaces.application.name=${long(64)}`, ["namespaces.application.name", "at most 63"]),
  config("doc-rag:namespaces.data.name=doc-rag-prod", [
    "namespaces.data.name",
    "already the name of the application namespace",
  ]),
  // Sizes Kubernetes requires above zero.
  config("doc-rag:postgres.storageSize=0", ["doc-rag:postgres.storageSize", '"0"', "must be above zero"]),
  config("doc-rag:valkey.storageSize=0Gi", ["doc-rag:valkey.storageSize", "0Gi", "must be above zero"]),
  config("doc-rag:qdrant.storageSize=lots", ["doc-rag:qdrant.storageSize", "lots", "Kubernetes quantity"]),
  config("doc-rag:observability.prometheus.storageSize=0", [
    "observability.prometheus.storageSize",
    "must be above zero",
  ]),
  config("doc-rag:observability.alertmanager.storageSize=0Mi", [
    "observability.alertmanager.storageSize",
    "above zero",
  ]),
  // Limits beyond the namespace's LimitRange, replicas beyond its quota, requests above limits.
  config("doc-rag:services.api.resources.limits.memory=20Gi", [
    "services.api.resources.limits.memory",
    "20Gi",
    "LimitRange max.memory (16Gi)",
  ]),
  config("doc-rag:services.embedder.resources.limits.cpu=9", [
    "services.embedder.resources.limits.cpu",
    '"9"',
    "LimitRange max.cpu (8)",
  ]),
  config("doc-rag:postgres.resources.limits.memory=64Gi", [
    "doc-rag:postgres.resources.limits.memory",
    "64Gi",
    "data namespace's LimitRange max.memory",
  ]),
  config("doc-rag:services.api.maxReplicas=60", [
    /namespaces\.application\.quota\["requests\.cpu"\]/,
    '"58"',
    "full scale-out",
  ]),
  config("doc-rag:services.api.resources.requests.cpu=4", [
    "services.api.resources.requests.cpu",
    '"4"',
    "must not exceed limits.cpu",
  ]),
  config("doc-rag:services.api.resources.limits.cpu=lots", [
    "services.api.resources.limits.cpu",
    "lots",
    "Kubernetes quantity",
  ]),
  config("doc-rag:services.api.maxReplicas=2", ["services.api.maxReplicas", "at least replicas and minReplicas"]),
  // Labels as the API server checks them.
  config('doc-rag:clusterDns.podLabels={"k8s app":"kube-dns"}', ["clusterDns.podLabels", "k8s app", "label key"]),
  config('doc-rag:clusterDns.podLabels={"k8s-app":"kube dns"}', ["clusterDns.podLabels", "kube dns", "label value"]),
  config(`doc-rag:clusterDns.podLabels={"k8s-app":"${long(64)}"}`, ["clusterDns.podLabels", "at most 63"]),
  config('doc-rag:clusterDns.podLabels={"-bad/key":"x"}', ["clusterDns.podLabels", "-bad/key", "label key"]),
  // Cron as the controllers parse it.
  config("doc-rag:postgres.backups.schedule=a b c d e f", [
    "postgres.backups.schedule",
    "a b c d e f",
    "six-field cron",
  ]),
  config("doc-rag:postgres.backups.schedule=0 0 25 * * *", ["postgres.backups.schedule", "hour field", "0-23"]),
  config("doc-rag:postgres.backups.schedule=0 2 * * *", ["postgres.backups.schedule", "has 5 fields, not 6"]),
  config("doc-rag:postgres.backups.schedule=0 0 2 * * 8", ["postgres.backups.schedule", "day of week", "0-6"]),
  // GitHub's rules.
  config('doc-rag:github.variables={"GITHUB_SHA":"x"}', [
    "github.variables",
    "GITHUB_SHA",
    "GitHub reserves that prefix",
  ]),
  config('doc-rag:github.variables={"lower":"x"}', ["github.variables", "lower", "UPPER_SNAKE_CASE"]),
  config('doc-rag:github.reviewers=["a","b","c","d","e","f","g"]', ["github.reviewers", "at most 6 teams"]),
  config("doc-rag:github.owner=bad owner", ["github.owner", "bad owner", "GitHub name"]),
  config("doc-rag:github.waitTimerMinutes=-1", ["github.waitTimerMinutes", "-1"]),
  // Host names and URLs.
  config(`doc-rag:delivery.apiHost=${long(72)}.doc-rag.com`, ["delivery.apiHost", "each at most 63 characters"]),
  config("doc-rag:delivery.apiHost=API.doc-rag.com", ["delivery.apiHost", "API.doc-rag.com", "lower-case"]),
  config("doc-rag:delivery.apiHost=localhost", ["delivery.apiHost", "localhost", "DNS name such as api.doc-rag.com"]),
  config("doc-rag:vault.address=https://admin:hunter2@vault.example", ["vault.address", "must not carry credentials"]),
  config("doc-rag:vault.address=http://vault.example", ["vault.address", "http://vault.example", "https://"]),
  config("doc-rag:vault.kubernetesHost=https://a:b@k8s.example", [
    "vault.kubernetesHost",
    "must not carry credentials",
  ]),
  config("doc-rag:observability.runbookBaseUrl=https://u:p@wiki.example", [
    "observability.runbookBaseUrl",
    "credentials",
  ]),
  config("doc-rag:postgres.backups.endpointURL=https://key:secret@s3.example", [
    "postgres.backups.endpointURL",
    "credentials",
  ]),
  // Addresses outside.
  config('doc-rag:egress.vault.cidrs=["10.0.0.0/33"]', ["egress.vault.cidrs", "10.0.0.0/33", "CIDR"]),
  config("doc-rag:egress.vault.ports=[70000]", ["egress.vault.ports[0]", "70000", "must be a port number (1-65535)"]),
  config("doc-rag:egress.vault.cidrs=[]", ["egress.vault.cidrs", "at least one network"]),
  // Everything else a typo makes.
  config("doc-rag:environment=prod", ["doc-rag:environment", '"prod"', "must be one of: dev, staging, production"]),
  config("doc-rag:kubernetesVersion=2.0", ["doc-rag:kubernetesVersion", '"2.0"', "Kubernetes minor version"]),
  config("doc-rag:services.api.image.tag=latest", ["services.api.image.tag", "latest moves under you"]),
  config("doc-rag:services.api.image.digest=sha256:abc", ["services.api.image.digest", "sha256:abc", "64 hex"]),
  config('doc-rag:release={"version":"1.2.3","images":{}}', [
    "doc-rag:release.version",
    "1.2.3",
    "release tag such as v1.4.2",
  ]),
  config("doc-rag:postgres.instances=1", ["doc-rag:postgres.instances", "at least 2 in production"]),
  config("doc-rag:valkey.replicas=0", ["doc-rag:valkey.replicas", "at least 1 in production"]),
  config("doc-rag:observability.prometheus.replicas=5", ["observability.prometheus.replicas", "between 1 and 3"]),
  config('doc-rag:namespaces.application.podSecurity={"enforce":"baseline"}', [
    "namespaces.application.podSecurity.reason",
    "is required",
  ]),
  // --out, checked before the run.
  {
    tool: "plan",
    argv: ["production", "--out", file("a-file", "x")],
    code: 2,
    names: ["--out", "is a file, not a directory"],
  },
  {
    tool: "plan",
    argv: ["production", "--out", "/proc/doc-rag"],
    code: 2,
    names: ["--out /proc/doc-rag", "virtual file system"],
  },
  {
    tool: "plan",
    argv: ["production", "--out", path.dirname(file("users-own/keep.txt", "mine"))],
    code: 2,
    names: ["users-own", "keep.txt", "did not write"],
  },
  // Arguments.
  { tool: "plan", argv: [], code: 2, names: ["usage: npm run plan"] },
  { tool: "plan", argv: ["prodution", "--out", OUT], code: 1, names: ['unknown stack "prodution"', "stacks here"] },
  {
    tool: "plan",
    argv: ["production", "--out", OUT, "--config", "doc-rag:environment"],
    code: 1,
    names: ["--config takes key=value"],
  },
  // The checker: every error names the file and the document.
  { tool: "policy:check", argv: [file("broken.yaml", "a: [1,\n")], code: 2, names: ["broken.yaml", "document 1"] },
  {
    tool: "policy:check",
    argv: [file("nokind.yaml", `${stringify(pod({}))}---\napiVersion: v1\nmetadata: {name: x}\n`)],
    code: 2,
    names: ["nokind.yaml", "document 2", "no apiVersion or kind"],
  },
  {
    tool: "policy:check",
    argv: [file("badmeta.yaml", "apiVersion: v1\nkind: Pod\nmetadata: just-a-string\n")],
    code: 2,
    names: ["badmeta.yaml", "document 1", "metadata must be a mapping"],
  },
  {
    tool: "policy:check",
    argv: [
      file(
        "bomb.yaml",
        'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
      ),
    ],
    code: 2,
    names: ["bomb.yaml", "document 1"],
  },
  { tool: "policy:check", argv: [file("bad.json", "{ not json")], code: 2, names: ["bad.json", "not valid JSON"] },
  { tool: "policy:check", argv: [path.dirname(file("empty/.keep", ""))], code: 2, names: ["nothing was checked"] },
  {
    tool: "policy:check",
    argv: [
      path.dirname(
        file(
          "json-only/pods.json",
          JSON.stringify({ apiVersion: "v1", kind: "List", items: [pod({ hostPID: true })] }),
        ),
      ),
    ],
    code: 1,
    names: ["pods.json", "Pod/p", "pod-security-baseline", "hostPID"],
  },
  {
    tool: "policy:check",
    argv: [file("x.yaml", stringify(pod({}))), "--version", "v2.0"],
    code: 2,
    names: ["--version v2.0", "v1.NN"],
  },
  {
    tool: "policy:check",
    argv: [
      file("sysctl.yaml", [namespace("v1.36"), sysctlPod].map((o) => stringify(o)).join("---\n")),
      "--level",
      "baseline",
    ],
    code: 1,
    names: ["Pod/p", "net.ipv4.tcp_notsent_lowat", "allowed at v1.36"],
  },
  {
    tool: "policy:check",
    argv: [
      file(
        "template.yaml",
        stringify({
          apiVersion: "v1",
          kind: "PodTemplate",
          metadata: { name: "t" },
          template: pod({ hostNetwork: true }),
        }),
      ),
      "--level",
      "baseline",
    ],
    code: 1,
    names: ["PodTemplate/t", "hostNetwork"],
  },
];

describe("hostile and mistaken input: the exit code, a message that names it, nothing written", function () {
  this.timeout(120_000);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it(`holds at least 60 cases (${CASES.length})`, () => assert.ok(CASES.length >= 60));

  for (const c of CASES) {
    it(`npm run ${c.tool} -- ${c.argv.map((a) => a.replace(root, "…")).join(" ")}`, async () => {
      const before = fs.existsSync(OUT);
      const { code, stdout, stderr } = await captureConsole(() => (c.tool === "plan" ? plan : check)(c.argv));
      const said = `${stderr}\n${stdout}`;
      assert.equal(code, c.code, said);
      for (const name of c.names)
        assert.ok(typeof name === "string" ? said.includes(name) : name.test(said), `names ${String(name)}:\n${said}`);
      for (const secret of c.hides ?? []) assert.ok(!said.includes(secret), `echoes ${secret}`);
      assert.equal(fs.existsSync(OUT), before, "nothing written");
    });
  }

  it("a path into __proto__ changes no object in the process", async () => {
    await captureConsole(() => plan(["production", "--out", OUT, "--config", "doc-rag:__proto__.polluted=yes"]));
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });

  it("the checker's --json is complete through a pipe, however long", () => {
    const many = file(
      "many.yaml",
      Array.from({ length: 400 }, (_, i) =>
        stringify({ ...pod({ hostPID: true }), metadata: { name: `p${i}`, namespace: "a" } }),
      ).join("---\n"),
    );
    const result = launch("policyCheck", [many, "--json"]);
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.stdout.length > 65_536, `${result.stdout.length} bytes`);
    const report = JSON.parse(result.stdout) as { objects: number; violations: unknown[] };
    assert.equal(report.objects, 400);
    assert.ok(report.violations.length >= 400);
  });
});
