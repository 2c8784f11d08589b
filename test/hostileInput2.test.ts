/**
 * Hostile input, second round (issue 24): one case per defect class the second review found, and
 * more. Each asserts the exit code, what the message names, and that nothing outside --out changed:
 * a victim directory beside it, the project's own .plan/ and its top level are compared before and
 * after every case.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main as flows } from "../tools/flows";
import { main as plan } from "../tools/plan";
import { main as check } from "../tools/policyCheck";
import { main as render } from "../tools/render";
import { captureConsole } from "./harness/console";
import { PROJECT_ROOT } from "../lib/paths";
import { readStackConfig } from "../lib/stackConfig";

const TOOLS = { plan, "policy:check": check, render, flows };

interface Case {
  title: string;
  tool: keyof typeof TOOLS;
  /** Arguments; OUT, VICTIM and files made by `arrange` are absolute paths under the case's folder. */
  argv: string[];
  code: number;
  /** Each must appear in what the command printed (stderr and stdout). */
  names: (string | RegExp)[];
  /** Must not appear in what it printed, nor in anything it wrote. */
  hides?: string[];
  /** Sets the stage inside the case's folder before the run. */
  arrange?: () => void;
  /** What the run must have left in --out (for the cases that write). */
  after?: (said: string) => void;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hostile2-"));
const OUT = path.join(root, "out");
/** A folder the tools must never touch: every link below points here. */
const VICTIM = path.join(root, "victim");
const file = (name: string, text: string) => {
  const p = path.join(root, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const link = (target: string, at: string) => {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
};
const config = (setting: string, names: (string | RegExp)[], title = setting): Case => ({
  title,
  tool: "plan",
  argv: ["production", "--out", OUT, "--config", setting],
  code: 1,
  names,
});
const pod = (spec: string) =>
  [
    "apiVersion: v1",
    "kind: Pod",
    "metadata: {name: p, namespace: apps}",
    "spec:",
    spec,
    "  containers: [{name: c, image: i}]",
    "",
  ].join("\n");
/** A process that is alive for the whole table: the owner of a lock that is not stale. */
let holder: ChildProcess | undefined;

const CASES: Case[] = [
  // --out never follows a link it did not create.
  {
    title: "a link at resources.json to a file outside",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => link(path.join(VICTIM, "keep.txt"), path.join(OUT, "resources.json")),
    code: 2,
    names: ["resources.json", "symbolic link", "remove it"],
  },
  {
    title: "a link at the record to a file outside",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => link(path.join(VICTIM, "keep.txt"), path.join(OUT, ".doc-rag-output")),
    code: 2,
    names: [".doc-rag-output", "symbolic link"],
  },
  {
    title: "a link at manifests/ to a folder outside",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => link(VICTIM, path.join(OUT, "manifests")),
    code: 2,
    names: ["manifests", "symbolic link"],
  },
  {
    title: "a link deep in manifests/",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => link(VICTIM, path.join(OUT, "manifests", "doc-rag-dev")),
    code: 2,
    names: [path.join("manifests", "doc-rag-dev"), "symbolic link"],
  },
  {
    title: "--out itself a link to a folder outside",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => link(VICTIM, OUT),
    code: 2,
    names: [OUT, "is a symbolic link"],
  },
  {
    title: "render into an --out holding a link",
    tool: "render",
    argv: ["dev", "--out", OUT],
    arrange: () => link(VICTIM, path.join(OUT, "rendered")),
    code: 2,
    names: ["rendered", "symbolic link"],
  },
  {
    title: "flows into an --out holding a link",
    tool: "flows",
    argv: ["dev", "--own", "--out", OUT],
    arrange: () => link(path.join(VICTIM, "keep.txt"), path.join(OUT, "flows.json")),
    code: 2,
    names: ["flows.json", "symbolic link"],
  },
  // A record that names files outside, or folders, removes nothing of them.
  {
    title: "a record naming ../victim/keep.txt and an absolute path",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () =>
      file(
        "out/.doc-rag-output",
        JSON.stringify({ plan: ["../victim/keep.txt", path.join(VICTIM, "keep.txt"), "manifests"] }),
      ),
    code: 0,
    names: ["Plan for stack dev"],
  },
  // One run per --out at a time; a lock its run left behind when killed is taken over.
  {
    title: "a second run while another holds the lock",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => {
      holder = spawn("sleep", ["600"], { stdio: "ignore" });
      file("out/.doc-rag-output.lock", JSON.stringify({ pid: holder.pid, tool: "plan" }));
    },
    code: 1,
    names: ["another run (plan, pid", "is writing there", "give another --out"],
  },
  {
    title: "a lock left by a killed run",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => file("out/.doc-rag-output.lock", JSON.stringify({ pid: 2 ** 22 + 1, tool: "render" })),
    code: 0,
    names: ["Plan for stack dev"],
    after: () => assert.ok(!fs.existsSync(path.join(OUT, ".doc-rag-output.lock")), "the lock is released"),
  },
  {
    title: "what an interrupted run recorded and half-wrote is removed by the next",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => {
      file("out/.doc-rag-output", JSON.stringify({ plan: ["manifests/gone/configmap-stale.yaml"] }));
      file("out/manifests/gone/configmap-stale.yaml", "half");
      file("out/.doc-rag-tmp/123-resources.json", "half");
    },
    code: 0,
    names: ["Plan for stack dev"],
    after: () => {
      assert.ok(!fs.existsSync(path.join(OUT, "manifests/gone/configmap-stale.yaml")));
      assert.ok(!fs.existsSync(path.join(OUT, ".doc-rag-tmp")));
    },
  },
  {
    title: "a write that fails names the file and leaves no half file",
    tool: "plan",
    argv: ["dev", "--out", OUT],
    arrange: () => fs.mkdirSync(path.join(OUT, "resources.json", "x"), { recursive: true }),
    code: 1,
    names: [/cannot write \S*out\/resources\.json: E(ISDIR|NOTEMPTY|EXIST)/],
  },
  // Stack names are names, never paths; config keys as the CLI parses them.
  {
    title: "a stack name that climbs out of the project",
    tool: "plan",
    argv: ["x/../../victim/evil", "--out", OUT],
    code: 2,
    names: ["may only contain alphanumeric", 'invalid character "/"'],
  },
  {
    title: "render of a stack name that is a path",
    tool: "render",
    argv: ["../victim", "--out", OUT],
    code: 2,
    names: ["may only contain alphanumeric"],
  },
  {
    title: "a stack name of 101 characters",
    tool: "plan",
    argv: ["a".repeat(101), "--out", OUT],
    code: 2,
    names: ["cannot exceed 100 characters"],
  },
  config("doc-rag:protectStatefulResources:old=false", ["protectStatefulResources:old", "one colon"]),
  config('doc-rag:github.variables={"ENVIRONMENT":"dev"}', ["github.variables", "ENVIRONMENT"]),
  config('doc-rag:github.variables={"PULUMI_ORGANIZATION":"evil"}', ["github.variables", "PULUMI_ORGANIZATION"]),
  // Secrets by Pulumi's rule, whatever the key.
  {
    title: "an e-mail set as a secret plans, and is nowhere in plain text",
    tool: "plan",
    argv: ["production", "--out", OUT, "--json", "--secret", "doc-rag:delivery.acmeEmail=s3cret-ops@doc-rag.io"],
    code: 0,
    names: ['"stack": "production"'],
    hides: ["s3cret-ops"],
  },
  {
    title: "a host name set as a secret is kept out of the outputs too",
    tool: "plan",
    argv: ["production", "--out", OUT, "--json", "--secret", "doc-rag:delivery.apiHost=hidden-api.doc-rag.io"],
    code: 0,
    names: ['"apiHost": "[secret]"'],
    hides: ["hidden-api"],
  },
  {
    title: "an invalid value set as a secret is named, never echoed",
    tool: "plan",
    argv: ["production", "--out", OUT, "--secret", "doc-rag:delivery.acmeEmail=not-an-email-s3cr3t"],
    code: 1,
    names: ["doc-rag:delivery.acmeEmail", "must be an e-mail address", "[secret]"],
    hides: ["s3cr3t"],
  },
  {
    title: "a secret cluster name in a failing config is never echoed",
    tool: "plan",
    argv: ["production", "--out", OUT, "--secret", "doc-rag:clusterName=Hidden_Cluster"],
    code: 1,
    names: ["doc-rag:clusterName", "[secret]"],
    hides: ["Hidden_Cluster"],
  },
  // Template languages: a value is text there, or refused.
  config("doc-rag:observability.chatChannel=#{{ .Status }}", ["observability.chatChannel", "channel name"]),
  // Values kube-prometheus-stack 88.4.0 passes through tpl (externalLabels, storageClassName): no template syntax.
  config("doc-rag:clusterName={{ .Release.Name }}", ["doc-rag:clusterName", "DNS label"]),
  config("doc-rag:storageClass={{ .Values.x }}", ["doc-rag:storageClass", "DNS label"]),
  {
    title: "Go-template syntax in the runbook URL is printed, never run",
    tool: "plan",
    argv: ["dev", "--out", OUT, "--config", "doc-rag:observability.runbookBaseUrl=https://wiki.example/{{.Labels}}"],
    code: 0,
    names: ["Plan for stack dev"],
    after: () => {
      const rules = fs.readdirSync(path.join(OUT, "manifests", "doc-rag-monitoring"));
      const text = rules
        .filter((f) => f.startsWith("prometheusrule-"))
        .map((f) => fs.readFileSync(path.join(OUT, "manifests", "doc-rag-monitoring", f), "utf8"))
        .join("");
      // Go-template syntax from config is quoted as text ({{ "{{" }}), so Prometheus prints it.
      assert.match(text, /runbook_url: https:\/\/wiki\.example\/\{\{ "\{\{" \}\}\.Labels\}\}\//);
    },
  },
  // The checker: links, memory, JSON, YAML as kubectl reads it.
  {
    title: "a folder with link loops: ends, each file judged once",
    tool: "policy:check",
    argv: [path.join(root, "loops"), "--level", "baseline"],
    arrange: () => {
      file("loops/a/b/pod.yaml", pod("  hostPID: true"));
      link("../..", path.join(root, "loops/a/b/up"));
      link("../../loops", path.join(root, "loops/a/again"));
      link("b/pod.yaml", path.join(root, "loops/a/same.yaml"));
    },
    code: 1,
    names: ["1 objects in 1 files", "hostPID"],
  },
  {
    title: "--json stays valid when a later file cannot be read",
    tool: "policy:check",
    argv: [path.join(root, "midway"), "--json"],
    arrange: () => {
      // More than one batch of findings is printed before the broken file is reached.
      file("midway/a.yaml", Array.from({ length: 600 }, () => pod("  hostPID: true")).join("---\n"));
      file("midway/b.yaml", "a: [1,\n");
    },
    code: 2,
    names: ["b.yaml", "document 1"],
    after: (said) => {
      const json = said.slice(said.indexOf('{"level"'));
      const report = JSON.parse(json.slice(0, json.lastIndexOf("}") + 1)) as { error: string; violations: unknown[] };
      assert.match(report.error, /b\.yaml/);
      assert.ok(report.violations.length > 0);
    },
  },
  {
    title: "hostPID written yes (YAML 1.1)",
    tool: "policy:check",
    argv: [file("yes.yaml", pod("  hostPID: yes")), "--level", "baseline"],
    code: 1,
    names: ["spec.hostPID is true"],
  },
  {
    title: "privileged through a merge key",
    tool: "policy:check",
    argv: [
      file(
        "merge.yaml",
        "x: &x {privileged: on}\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext: {<<: *x}\n",
      ),
      "--level",
      "baseline",
    ],
    code: 1,
    names: ["privileged is true"],
  },
  {
    title: "a !!binary value in a manifest",
    tool: "policy:check",
    argv: [file("binary.yaml", pod("  hostname: !!binary aG9zdA=="))],
    code: 2,
    names: ["binary.yaml", "document 1", "unknown tag"],
  },
  {
    title: "a second document kubectl would not split",
    tool: "policy:check",
    argv: [file("inline.yaml", pod("  hostPID: false") + "--- {apiVersion: v1, kind: Pod, metadata: {name: q}}\n")],
    code: 2,
    names: ["inline.yaml", "document 1"],
  },
  {
    title: "aliases that expand past a million nodes",
    tool: "policy:check",
    argv: [
      file(
        "laughs.yaml",
        [
          "a: &a [x,x,x,x,x,x,x,x,x,x]",
          ...["b", "c", "d", "e", "f", "g"].map(
            (n, i) => `${n}: &${n} [${Array(10).fill(`*${"abcdefg"[i]}`).join(",")}]`,
          ),
          "kind: Pod",
          "apiVersion: v1",
          "",
        ].join("\n"),
      ),
    ],
    code: 2,
    names: ["laughs.yaml", "excessive aliasing"],
  },
  // Accepted nonsense, now refused with the key, the value and the rule.
  config("doc-rag:services.api.resources.requests.memory=512m", [
    "services.api.resources.requests.memory",
    '"512m"',
    "millibytes",
  ]),
  config('doc-rag:namespaces.data.quota["limits.memory"]=64000m', ['quota["limits.memory"]', "millibytes"]),
  config("doc-rag:postgres.backups.schedule=0 0 0 30 2 *", ["postgres.backups.schedule", "never fires"]),
  config("doc-rag:postgres.backups.schedule=0 0 0 31 4,6,9,11 *", ["postgres.backups.schedule", "never fires"]),
  config("doc-rag:postgres.backups.schedule=CRON_TZ=Mars/Olympus 0 0 2 * * *", [
    "postgres.backups.schedule",
    "Mars/Olympus",
    "IANA time zone",
  ]),
  config("doc-rag:observability.runbookBaseUrl=https://wiki.example/r?token=abc", [
    "observability.runbookBaseUrl",
    "credential in its query",
  ]),
  config("doc-rag:postgres.backups.endpointURL=https://s3.example/?access_token=abc", [
    "postgres.backups.endpointURL",
    "credential in its query",
  ]),
  config("doc-rag:vault.address=https:vault.example", ["vault.address", "without the two slashes"]),
  config(
    `doc-rag:delivery.acmeEmail=${"a".repeat(2 ** 20)}@doc-rag.io`,
    ["delivery.acmeEmail", "at most 254 characters", /… \(1048589 characters\)/],
    "doc-rag:delivery.acmeEmail=<a 1 MB address>",
  ),
  config("doc-rag:egress.vault.ports[0]=70000", ["egress.vault.ports[0]", "70000", "port number"]),
  config("doc-rag:egress.vault.ports[3]=443", ["egress.vault.ports[3]", "past the end of a list"]),
  config("doc-rag:vault.address=https://vault.example:99999", ["vault.address", "port 99999 is not a port"]),
  config("doc-rag:kubernetesVersion=1.036", ["doc-rag:kubernetesVersion", '"1.036"']),
  config("doc-rag:services.api.replicas=1e309", ["1e309", "not a finite number"]),
  config('doc-rag:namespaces.data.quota["requests.cpu"]=1', [
    'namespaces.data.quota["requests.cpu"]',
    "what the data services run",
    "10.5 CPU of requests.cpu",
  ]),
  config('doc-rag:namespaces.data.quota["requests.storage"]=10Gi', [
    'namespaces.data.quota["requests.storage"]',
    "510Gi of requests.storage",
  ]),
];

/** Names, sizes, modification times and link targets under a folder: what "changed" is compared on. */
function snapshot(dir: string, skip: (p: string) => boolean = () => false): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (skip(p)) continue;
      const stat = fs.lstatSync(p);
      found.push(`${p} ${stat.size} ${stat.mtimeMs} ${entry.isSymbolicLink() ? fs.readlinkSync(p) : ""}`.trimEnd());
      if (entry.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return found.sort();
}

/** Everything a case may not change: the victim, the case folder outside --out, the project's .plan and top level. */
const outside = () => [
  ...snapshot(root, (p) => p === OUT),
  ...snapshot(path.join(PROJECT_ROOT, ".plan")),
  ...fs.readdirSync(PROJECT_ROOT).sort(),
];

/** Every file under --out, followed nowhere: what the case wrote. */
const writtenText = () =>
  snapshot(OUT)
    .map((line) => line.split(" ")[0] ?? "")
    .filter((p) => fs.lstatSync(p).isFile())
    .map((p) => fs.readFileSync(p, "utf8"))
    .join("\n");

describe("hostile input, second round: exit code, message, and nothing outside --out changed", function () {
  this.timeout(120_000);
  beforeEach(() => {
    for (const d of [OUT, VICTIM]) fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(VICTIM, { recursive: true });
    fs.writeFileSync(path.join(VICTIM, "keep.txt"), "the user's own file\n");
  });
  after(() => {
    holder?.kill();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it(`holds at least 40 cases (${CASES.length})`, () => assert.ok(CASES.length >= 40));

  for (const c of CASES) {
    it(`${c.tool}: ${c.title}`, async () => {
      c.arrange?.();
      const before = outside();
      const { code, stdout, stderr } = await captureConsole(() => TOOLS[c.tool](c.argv));
      const said = `${stderr}\n${stdout}`;
      assert.equal(code, c.code, said.slice(0, 2000));
      for (const name of c.names)
        assert.ok(
          typeof name === "string" ? said.includes(name) : name.test(said),
          `names ${String(name)}:\n${said.slice(0, 2000)}`,
        );
      const wrote = writtenText();
      for (const secret of c.hides ?? []) {
        assert.ok(!said.includes(secret), `echoes ${secret}`);
        assert.ok(!wrote.includes(secret), `writes ${secret} in plain text under --out`);
      }
      assert.deepEqual(outside(), before, "nothing outside --out changed");
      assert.equal(fs.readFileSync(path.join(VICTIM, "keep.txt"), "utf8"), "the user's own file\n");
      c.after?.(said);
    });
  }
});

describe("stack files the Pulumi CLI would read differently", () => {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"));
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: doc-rag\n");
  after(() => fs.rmSync(project, { recursive: true, force: true }));
  const read = (stack: string, text: string) => {
    fs.writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), text);
    return () => readStackConfig(project, stack);
  };

  it("a parse error names the file and the line", () => {
    assert.throws(
      read("broken", "config:\n  doc-rag:environment: [dev\n"),
      /Pulumi\.broken\.yaml: .* at line 3, column 1; nothing was read/,
    );
  });
  it("a tag such as !!binary is refused with its line", () => {
    assert.throws(
      read("tagged", "config:\n  doc-rag:environment: dev\n  doc-rag:clusterName: !!binary aGVsbG8=\n"),
      /Pulumi\.tagged\.yaml: the tag !!binary at line 3 is not read the same way by the Pulumi CLI/,
    );
  });
  it("a secret e-mail and a secret URL leaf get placeholders that pass their schema", () => {
    const input = read(
      "secure",
      "config:\n  doc-rag:delivery:\n    acmeEmail:\n      secure: AAAA\n  doc-rag:vault:\n    address:\n      secure: BBBB\n    kubernetesHost: https://k8s.example\n",
    )();
    assert.deepEqual(JSON.parse(input.config["doc-rag:delivery"] ?? ""), { acmeEmail: "placeholder@example.invalid" });
    assert.equal(
      (JSON.parse(input.config["doc-rag:vault"] ?? "") as { address: string }).address,
      "https://placeholder.invalid/secret",
    );
    assert.deepEqual(input.secretKeys.sort(), ["doc-rag:delivery", "doc-rag:vault"]);
  });
});
