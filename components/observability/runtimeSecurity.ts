import type * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { CHARTS, pinnedRelease, type ChartSource } from "../charts";

/** A Falco rule, in Falco's rule-file format. */
export interface FalcoRule {
  rule: string;
  desc: string;
  condition: string;
  output: string;
  priority: "EMERGENCY" | "ALERT" | "CRITICAL" | "ERROR" | "WARNING" | "NOTICE" | "INFORMATIONAL" | "DEBUG";
  tags: string[];
}

/** A Falco macro: a named condition that rules use. */
export interface FalcoMacro {
  macro: string;
  condition: string;
}

/**
 * Macros the Doc-RAG rules use that the stable rules (falco_rules.yaml, which the chart installs)
 * do not define. The original document's rule uses `inbound_outbound`, which only the incubating
 * and sandbox rule files define; Falco stops on an undefined macro, so this is its definition,
 * under our own name: an accepted, listened-on or connected socket (IPv4 or IPv6), not loopback
 * or unspecified, that succeeded or is in progress.
 */
export const DOC_RAG_FALCO_MACROS: FalcoMacro[] = [
  {
    macro: "doc_rag_inbound_outbound",
    condition: [
      "((evt.type in (accept, accept4, listen, connect) and evt.dir = <) and",
      "(fd.typechar = 4 or fd.typechar = 6) and",
      '(fd.ip != "0.0.0.0" and fd.net != "127.0.0.0/8") and',
      "(evt.rawres >= 0 or evt.res = EINPROGRESS))",
    ].join("\n"),
  },
];

/** The original document's two custom rules (§7.2), as written there but for the macro above. */
export const DOC_RAG_FALCO_RULES: FalcoRule[] = [
  {
    rule: "Unexpected Network Connection from Doc-RAG Container",
    desc: "Detect unexpected network connections from doc-rag containers",
    condition: [
      "doc_rag_inbound_outbound and",
      "container and",
      'container.image contains "doc-rag" and',
      "not proc.name in (curl, wget, api-server) and",
      "not fd.sport in (8080, 9090, 5432, 6379, 6333)",
    ].join("\n"),
    output: [
      "Unexpected network connection from doc-rag container",
      "(command=%proc.cmdline pid=%proc.pid container=%container.id",
      "image=%container.image.repository connection=%fd.name)",
    ].join(" "),
    priority: "WARNING",
    tags: ["network", "doc-rag"],
  },
  {
    rule: "File Access Outside Expected Paths in Doc-RAG",
    desc: "Detect file access outside expected paths",
    condition: [
      "open_read and",
      "container and",
      'container.image contains "doc-rag" and',
      "not fd.name startswith /app/ and",
      "not fd.name startswith /tmp/ and",
      "not fd.name startswith /proc/ and",
      "not fd.name startswith /sys/",
    ].join("\n"),
    output: [
      "File access outside expected paths in doc-rag container",
      "(file=%fd.name command=%proc.cmdline pid=%proc.pid container=%container.id)",
    ].join(" "),
    priority: "ERROR",
    tags: ["filesystem", "doc-rag"],
  },
];

export const FALCO_RULES_FILE = "doc-rag-rules.yaml";
export const FALCO_METRICS_PORT = 8765;

/**
 * Falco (chart values read at 9.1.0) on every node with the modern eBPF probe in its
 * least-privileged mode (capabilities, not a privileged container), the Doc-RAG rules
 * beside the default ones, JSON output (shipped by Fluent Bit) and metrics; falcoctl's follow
 * sidecar only with `followArtifacts`.
 */
export function runtimeSecurity(
  resourceName: string,
  args: { namespace: pulumi.Input<string>; followArtifacts: boolean } & ChartSource,
  opts: pulumi.CustomResourceOptions,
) {
  return pinnedRelease(
    resourceName,
    {
      chart: CHARTS.falco,
      chartsDir: args.chartsDir,
      name: "falco",
      namespace: args.namespace,
      values: {
        driver: { kind: "modern_ebpf", modernEbpf: { leastPrivileged: true } },
        collectors: { kubernetes: { enabled: false } },
        customRules: { [FALCO_RULES_FILE]: stringify([...DOC_RAG_FALCO_MACROS, ...DOC_RAG_FALCO_RULES]) },
        falco: { json_output: true },
        tty: true,
        falcosidekick: { enabled: false },
        // falcoctl installs the rules and plugins at start; following them upstream would change
        // what runs without a commit, so the sidecar runs only where the stack asks for it.
        falcoctl: { artifact: { follow: { enabled: args.followArtifacts } } },
        metrics: { enabled: true },
        serviceMonitor: { create: true },
        resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      },
    },
    opts,
  );
}
