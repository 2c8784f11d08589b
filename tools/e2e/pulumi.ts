/**
 * The real Pulumi CLI as the lane runs it: a local file backend in the run's folder, a passphrase
 * for its secrets, never a plugin download, and every operation's engine events in a JSON log
 * (`--event-log`) that the report is read from.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Engine } from "./engine";
import { capture } from "./process";

/** One engine event, as `--event-log` writes it (only the fields the lane reads). */
export interface EngineEvent {
  resourcePreEvent?: { metadata: StepMetadata; planning?: boolean };
  resOutputsEvent?: { metadata: StepMetadata };
  resOpFailedEvent?: { metadata: StepMetadata };
  diagnosticEvent?: { urn?: string; message: string; severity: string };
  policyEvent?: { resourceUrn?: string; message: string; policyName: string; enforcementLevel: string };
}

export interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  diffs?: string[];
  detailedDiff?: Record<string, { kind: string }>;
}

export interface PulumiRun {
  code: number;
  events: EngineEvent[];
  output: string;
}

export interface PulumiCli {
  /** Runs pulumi in the project copy, or in `where.cwd` (a project of it), as `where.kubeconfig` if given. */
  run: (args: string[], eventLog?: string, where?: { cwd?: string; kubeconfig?: string }) => Promise<PulumiRun>;
}

/** The CLI for one project copy, with its own PULUMI_HOME and state under `work`. */
export function pulumiCli(engine: Engine, project: string, work: string, kubeconfig: string, log: string): PulumiCli {
  const home = path.join(work, "pulumi-home");
  const state = path.join(work, "state");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(state, { recursive: true });
  // The ambient variables that would point the program at another cluster or service are left out.
  const ambient = new Set(["VAULT_TOKEN", "VAULT_ADDR", "GITHUB_TOKEN", "PULUMI_ACCESS_TOKEN", "KUBECONFIG"]);
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !ambient.has(k))),
    PATH: `${engine.bin}:${engine.standIns}:${process.env["PATH"] ?? ""}`,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "doc-rag-e2e",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // Enables --event-log, the engine events the report is read from (as the Automation API does).
    PULUMI_DEBUG_COMMANDS: "true",
    KUBECONFIG: kubeconfig,
  };
  return {
    run: async (args, eventLog, where = {}) => {
      if (eventLog) fs.rmSync(eventLog, { force: true });
      const result = await capture(
        path.join(engine.bin, "pulumi"),
        [...args, "--non-interactive", "--color", "never", ...(eventLog ? ["--event-log", eventLog] : [])],
        {
          env: where.kubeconfig ? { ...env, KUBECONFIG: where.kubeconfig } : env,
          cwd: where.cwd ?? project,
          log,
        },
      );
      const events = eventLog && fs.existsSync(eventLog) ? readEvents(eventLog) : [];
      return { code: result.code, events, output: result.stdout + result.stderr };
    },
  };
}

function readEvents(file: string): EngineEvent[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as EngineEvent);
}

/** The steps the engine announced (a preview's plan, an update's steps as they start). */
function steps(events: EngineEvent[]): StepMetadata[] {
  return events.flatMap((e) => (e.resourcePreEvent ? [e.resourcePreEvent.metadata] : []));
}

/** Steps that change something (not `same`, not a read), one line each: the perpetual-diff list. */
export function changes(events: EngineEvent[]): string[] {
  return steps(events)
    .filter((m) => m.op !== "same" && m.op !== "read")
    .map((m) => `${m.op} ${m.urn}${m.diffs?.length ? ` (${m.diffs.join(", ")})` : ""}`);
}

/** Errors the engine or the API server reported, per resource. */
export function refusals(events: EngineEvent[]): { urn: string; message: string }[] {
  return events
    .map((e) => e.diagnosticEvent)
    .filter((d): d is NonNullable<EngineEvent["diagnosticEvent"]> => d !== undefined && d.severity === "error")
    .map((d) => ({ urn: d.urn ?? "(stack)", message: d.message.trim() }));
}

/** Policy findings, by level. */
export function policyFindings(
  events: EngineEvent[],
): { level: string; policy: string; urn: string; message: string }[] {
  return events
    .map((e) => e.policyEvent)
    .filter((p): p is NonNullable<EngineEvent["policyEvent"]> => p !== undefined)
    .map((p) => ({
      level: p.enforcementLevel,
      policy: p.policyName,
      urn: p.resourceUrn ?? "(stack)",
      message: p.message.trim(),
    }));
}

/** Resources an `up` created, by type. */
export function created(events: EngineEvent[]): StepMetadata[] {
  return events
    .map((e) => e.resOutputsEvent?.metadata)
    .filter((m): m is StepMetadata => m !== undefined && m.op === "create");
}

/** Resources a preview plans to create, by URN (components included). */
export function planned(events: EngineEvent[]): string[] {
  return steps(events)
    .filter((m) => m.op === "create")
    .map((m) => m.urn);
}
