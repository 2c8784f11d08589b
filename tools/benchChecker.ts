/**
 * npm run bench:checker [-- --mb N] [--shape documents|configmap|list] [--record]
 *
 * The policy checker on one large input: writes an N MB (default 50) YAML file, runs `policy:check`
 * on it in a fresh process and reports the documents, the wall time and the process's peak memory
 * (max RSS). Shapes: `documents` (default), many Deployments and Services; `configmap`, one
 * document holding one ConfigMap with a large value; `list`, one document holding a List of them.
 * --record appends it to BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { machine, report } from "./benchMachine";

const BUILT = path.resolve(__dirname, "..");
const SHAPES = ["documents", "configmap", "list"];

function deployment(i: number): Record<string, unknown> {
  const name = `svc-${i}`;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: `team-${i % 20}`, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "app",
              image: `registry.example/${name}:1.${i % 9}`,
              ports: [{ name: "http", containerPort: 8080 }],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: { allowPrivilegeEscalation: i % 7 !== 0, capabilities: { drop: ["ALL"] } },
              env: [{ name: "MODE", value: "production" }],
            },
          ],
        },
      },
    },
  };
}

const service = (i: number) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: `svc-${i}`, namespace: `team-${i % 20}` },
  spec: { selector: { app: `svc-${i}` }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
});

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mb: { type: "string", default: "50" },
      shape: { type: "string", default: "documents" },
      record: { type: "boolean", default: false },
    },
  });
  const bytes = Number(values.mb) * 2 ** 20;
  const shape = values.shape;
  if (!(bytes > 0) || !SHAPES.includes(shape)) {
    console.error(`usage: npm run bench:checker [-- --mb N] [--shape ${SHAPES.join("|")}] [--record]`);
    return 2;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-bench-checker-"));
  const file = path.join(dir, "large.yaml");
  const fd = fs.openSync(file, "w");
  let size = 0;
  let documents = 0;
  const write = (text: string) => {
    fs.writeSync(fd, text);
    size += Buffer.byteLength(text);
  };
  if (shape === "configmap") {
    write(
      stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "large" },
        data: { blob: "x".repeat(bytes) },
      }),
    );
    documents = 1;
  } else if (shape === "list") {
    write("apiVersion: v1\nkind: List\nitems:\n");
    for (let i = 0; size < bytes; i++) write(stringify([i % 2 ? service(i) : deployment(i)]));
    documents = 1;
  } else {
    for (let i = 0; size < bytes; i++) {
      write(`${stringify(i % 2 ? service(i) : deployment(i))}---\n`);
      documents++;
    }
  }
  fs.closeSync(fd);
  // The checker in a fresh process, reporting its own peak memory when it is done.
  const script = `require(${JSON.stringify(path.join(BUILT, "tools", "policyCheck.js"))}).main([${JSON.stringify(file)}, "--json"]).then((code) => { process.stderr.write(JSON.stringify({ code, maxRssKiB: process.resourceUsage().maxRSS }) + "\\n"); });`;
  // Its output goes to a file, as `> report.json` would: a pipe nobody drains would hold it in memory.
  const output = path.join(dir, "report.json");
  const fdOut = fs.openSync(output, "w");
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", stdio: ["ignore", fdOut, "pipe"] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fdOut);
  const checked = JSON.parse(fs.readFileSync(output, "utf8")) as { objects: number; mandatory: number };
  fs.rmSync(dir, { recursive: true, force: true });
  const last = run.stderr.trim().split("\n").pop() ?? "";
  let result: { code: number; maxRssKiB: number };
  try {
    result = JSON.parse(last) as { code: number; maxRssKiB: number };
  } catch {
    console.error(`the checker failed: ${run.stderr.slice(0, 500)}`);
    return 1;
  }
  const lines = [
    `### ${new Date().toISOString().slice(0, 10)}: policy:check on one large file (${shape})`,
    "",
    `Machine: ${machine()}. One fresh process, tools built to dist/.`,
    "",
    "| input | documents | objects checked | violations (mandatory) | wall | peak memory (max RSS) |",
    "|---|---:|---:|---:|---:|---:|",
    `| ${(size / 2 ** 20).toFixed(1)} MB of YAML (${shape}) | ${documents} | ${checked.objects} | ${checked.mandatory} | ${seconds.toFixed(1)} s | ${(result.maxRssKiB / 1024).toFixed(0)} MB |`,
    "",
  ];
  report(lines, values.record);
  return 0;
}
