/** The arguments the stack commands share: `<stack> [--charts DIR] [--out DIR] [--json] [--config k=v ...]`. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { stackNameProblem } from "../lib/stackConfig";

const COMMON = {
  charts: { type: "string" },
  out: { type: "string" },
  json: { type: "boolean", default: false },
  config: { type: "string", short: "c", multiple: true },
} as const;

export interface StackArgs {
  stack: string;
  charts?: string;
  out?: string;
  json: boolean;
  config: string[];
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
  return {
    stack,
    ...(typeof v["charts"] === "string" ? { charts: v["charts"] } : {}),
    ...(typeof v["out"] === "string" ? { out: v["out"] } : {}),
    json: v["json"] === true,
    config: (v["config"] as string[] | undefined) ?? [],
    flags: Object.fromEntries(flags.map((f) => [f, v[f] === true])),
  };
}
