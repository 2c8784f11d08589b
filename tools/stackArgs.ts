/**
 * The arguments the stack commands share:
 * `<stack> [--project cluster|data|app|governance|single] [--charts DIR] [--out DIR] [--json] [--config k=v ...]`.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PROJECT_CHOICES, type ProjectChoice } from "../lib/run";
import { stackNameProblem } from "../lib/stackConfig";

const COMMON = {
  charts: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean", default: false },
  config: { type: "string", short: "c", multiple: true },
  project: { type: "string" },
} as const;

export interface StackArgs {
  stack: string;
  charts?: string;
  out?: string;
  json: boolean;
  config: string[];
  /** One project's objects instead of the whole environment's (every project together). */
  project?: ProjectChoice;
  /** The command's own boolean flags, by name. */
  flags: Record<string, boolean>;
}

/** Parses a stack command's arguments; undefined (after printing the usage) when they are wrong. */
export function parseStackArgs(argv: string[], usage: string, flags: string[] = []): StackArgs | undefined {
  const options: ParseArgsConfig["options"] = {
    ...COMMON,
    ...Object.fromEntries(flags.map((f) => [f, { type: "boolean", default: false } as const])),
  };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return undefined;
  }
  const [stack, ...extra] = parsed.positionals;
  if (!stack || extra.length) {
    console.error(usage);
    return undefined;
  }
  const problem = stackNameProblem(stack);
  if (problem) {
    console.error(`stack ${JSON.stringify(stack)}: ${problem}; nothing was read or written`);
    return undefined;
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const project = v["project"];
  if (project !== undefined && !PROJECT_CHOICES.includes(project as ProjectChoice)) {
    console.error(`--project ${JSON.stringify(project)}: must be one of ${PROJECT_CHOICES.join(", ")}\n${usage}`);
    return undefined;
  }
  return {
    ...(typeof project === "string" ? { project: project as ProjectChoice } : {}),
    stack,
    ...(typeof v["charts"] === "string" ? { charts: v["charts"] } : {}),
    ...(typeof v["out"] === "string" ? { out: v["out"] } : {}),
    json: v["json"] === true,
    config: (v["config"] as string[] | undefined) ?? [],
    flags: Object.fromEntries(flags.map((f) => [f, v[f] === true])),
  };
}
