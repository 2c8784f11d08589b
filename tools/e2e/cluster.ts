/**
 * A throw-away Kubernetes control plane on 127.0.0.1 for one lane run: etcd, kube-apiserver with
 * its default admission plugins plus PodSecurity and ResourceQuota, controller-manager and
 * scheduler (the recipe's start-cluster.sh), and kwok with its own stages and one fake node, so
 * Deployments' pods are scheduled and become Ready. Stopped by exactly the PIDs it recorded.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { kubectlBinary } from "../../lib/helm";
import { KWOK_STAGES, type Engine } from "./engine";
import { capture, run } from "./process";

export interface Cluster {
  dir: string;
  /** The kubeconfig the program and kubectl use: one context per name the stack may ask for. */
  kubeconfig: string;
  /** kubectl against the cluster; `quiet` keeps a poll out of the run's log. */
  kubectl: (
    args: string[],
    input?: string,
    quiet?: boolean,
  ) => Promise<{ code: number; stdout: string; stderr: string }>;
  stop: () => Promise<void>;
  /**
   * A kubeconfig (same server, same context names) that acts as a ServiceAccount, with a token the
   * API server issues for it (TokenRequest): what a project's deployments would run with.
   */
  kubeconfigAs: (namespace: string, serviceAccount: string) => Promise<string>;
}

function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A base port whose offsets are all free on loopback. */
async function freePorts(start: number, offsets: number[]): Promise<number> {
  for (let base = start; base < start + 2000; base += 100) {
    if ((await Promise.all(offsets.map((o) => free(base + o)))).every(Boolean)) return base;
  }
  throw new Error(`no free ports near ${start} on 127.0.0.1`);
}

interface NodeStatus {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

/** CPU nodes: as many as the widest spread the stacks ask for (one api pod per host in production). */
const CPU_NODES = 8;
/** GPU nodes: the chunker's and embedder's pool, labelled and tainted as the program's pods expect. */
const GPU_NODES = 3;
const GPU_LABELS = { accelerator: "nvidia-tesla-v100" };

/** The fake nodes kwok manages: enough room that only quota, admission and spreading limit what runs. */
export function fakeNodes(): Record<string, unknown>[] {
  const node = (name: string, gpu: boolean) => {
    const room = {
      cpu: "64",
      memory: "256Gi",
      "ephemeral-storage": "1Ti",
      pods: "250",
      ...(gpu ? { "nvidia.com/gpu": "8" } : {}),
    };
    return {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          type: "kwok",
          ...(gpu ? GPU_LABELS : {}),
        },
      },
      spec: gpu ? { taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] } : {},
      status: { allocatable: room, capacity: room },
    };
  };
  return [
    ...Array.from({ length: CPU_NODES }, (_, i) => node(`kwok-cpu-${i}`, false)),
    ...Array.from({ length: GPU_NODES }, (_, i) => node(`kwok-gpu-${i}`, true)),
  ];
}

/** Starts the cluster; `contexts` are the context names the kubeconfig offers (the stack's kubeContext). */
export async function startCluster(engine: Engine, dir: string, contexts: string[], log: string): Promise<Cluster> {
  fs.mkdirSync(dir, { recursive: true });
  const kubectl = kubectlBinary();
  const apiPort = await freePorts(16443, [0, 1, 2, 3]);
  const etcdPort = await freePorts(23790, [0, 10, 20]);
  const env = {
    ...process.env,
    RE_BIN: engine.bin,
    RE_CLUSTER: dir,
    RE_API_PORT: String(apiPort),
    RE_ETCD_PORT: String(etcdPort),
    RE_KWOK: "0",
    // start-cluster.sh calls kubectl: the one the lane ships, whatever the PATH holds.
    PATH: `${path.dirname(kubectl)}:${engine.bin}:${process.env["PATH"] ?? ""}`,
  };
  const stop = async () => {
    await run("bash", [path.join(engine.recipe, "stop-cluster.sh")], { env, log });
  };
  const kubeconfig = path.join(dir, "lane.kubeconfig");
  const client = (args: string[], input?: string, quiet = false) =>
    capture(kubectl, ["--kubeconfig", kubeconfig, ...args], {
      ...(quiet ? {} : { log }),
      ...(input === undefined ? {} : { input }),
    });
  try {
    if ((await run("bash", [path.join(engine.recipe, "start-cluster.sh")], { env, log })) !== 0) {
      throw new Error(`the loopback cluster did not start; see ${log} and ${path.join(dir, "logs")}`);
    }
    writeKubeconfig(dir, kubeconfig, contexts);
    // kwok with its stages, started here (the recipe starts it without them, and it exits).
    const kwokLog = fs.openSync(path.join(dir, "logs", "kwok.log"), "a");
    const kwok = spawn(
      path.join(engine.bin, "kwok"),
      [
        "--kubeconfig",
        path.join(dir, "admin.kubeconfig"),
        "--config",
        path.join(engine.bin, KWOK_STAGES),
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--node-ip",
        "127.0.0.1",
        "--node-lease-duration-seconds",
        "40",
        "--server-address",
        `127.0.0.1:${apiPort + 3}`,
      ],
      { detached: true, stdio: ["ignore", kwokLog, kwokLog] },
    );
    kwok.unref();
    fs.appendFileSync(path.join(dir, "pids"), `kwok ${kwok.pid}\n`);
    const nodes = fakeNodes();
    const applied = await client(
      ["apply", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }),
    );
    if (applied.code !== 0) throw new Error(`the fake nodes were refused: ${applied.stderr.trim()}`);
    let notReady: string[] = [];
    for (let i = 0; i < 60; i++) {
      const listed = await client(["get", "nodes", "-l", "type=kwok", "-o", "json"], undefined, true);
      const items = listed.code === 0 ? (JSON.parse(listed.stdout) as { items: NodeStatus[] }).items : [];
      notReady = items
        .filter((n) => !n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
        .map((n) => n.metadata.name);
      if (items.length === nodes.length && notReady.length === 0) {
        // Admission taints a new node not-ready; the node lifecycle controller that would lift the
        // taint is off in the recipe (it would mark kwok's nodes unreachable), so lift it here.
        await client(["taint", "node", "-l", "type=kwok", "node.kubernetes.io/not-ready:NoSchedule-"]);
        const kubeconfigAs = async (namespace: string, serviceAccount: string) => {
          const token = await client(
            ["create", "token", serviceAccount, "-n", namespace, "--duration", "2h"],
            undefined,
            true,
          );
          if (token.code !== 0) throw new Error(`no token for ${namespace}/${serviceAccount}: ${token.stderr.trim()}`);
          const target = path.join(dir, `${serviceAccount}.kubeconfig`);
          writeKubeconfig(dir, target, contexts, { token: token.stdout.trim() });
          return target;
        };
        return { dir, kubeconfig, kubectl: client, stop, kubeconfigAs };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`kwok did not make nodes ${notReady.join(", ")} Ready; see ${path.join(dir, "logs", "kwok.log")}`);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The recipe's admin kubeconfig (or a token's), with one context per name the stack may ask for. */
function writeKubeconfig(dir: string, target: string, contexts: string[], as?: { token: string }): void {
  const admin = parse(fs.readFileSync(path.join(dir, "admin.kubeconfig"), "utf8")) as {
    clusters?: { cluster?: { server?: string } }[];
  };
  const server = admin.clusters?.[0]?.cluster?.server;
  if (!server) throw new Error(`no server in ${path.join(dir, "admin.kubeconfig")}`);
  const names = [...new Set(["re-admin", ...contexts])];
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "re", cluster: { server, "certificate-authority": path.join(dir, "pki", "ca.crt") } }],
    users: [
      {
        name: "admin",
        user: as
          ? { token: as.token }
          : {
              "client-certificate": path.join(dir, "pki", "admin.crt"),
              "client-key": path.join(dir, "pki", "admin.key"),
            },
      },
    ],
    contexts: names.map((name) => ({ name, context: { cluster: "re", user: "admin" } })),
    "current-context": "re-admin",
  };
  fs.writeFileSync(target, stringify(config));
}
