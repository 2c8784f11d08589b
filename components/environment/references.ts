/**
 * Reading a lower layer's stack: one StackReference per layer, its contract output validated
 * against the schema the exporting project builds it with. A missing stack output or one of the
 * wrong shape stops the program at plan time with the stack, the output and what to run first.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { CONTRACTS } from "./contract";
import { PROJECTS, type Layer } from "./projects";

/** The fully qualified name of this environment's stack of a layer: <organization>/<project>/<stack>. */
export function layerStackName(layer: Layer): string {
  return `${pulumi.getOrganization()}/${PROJECTS[layer]}/${pulumi.getStack()}`;
}

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReferenceError";
  }
}

type Referenced = keyof typeof CONTRACTS;

/** The contract of a lower layer's stack and the reference that read it (a dependency for what uses it). */
export async function readLayer<L extends Referenced>(
  layer: L,
): Promise<{ value: z.output<(typeof CONTRACTS)[L]["schema"]>; reference: pulumi.StackReference }> {
  const name = layerStackName(layer);
  const { output, schema } = CONTRACTS[layer];
  // Named after the stack it reads, as is the custom: a policy sees a read's name before its outputs.
  const reference = new pulumi.StackReference(name);
  const details = await reference.getOutputDetails(output);
  const value = details.value ?? details.secretValue;
  const first = `bring up projects/${layer} for this stack first (npm run up -- ${pulumi.getStack()} --project ${layer})`;
  if (value === undefined) {
    throw new ReferenceError(`stack ${name} has no output "${output}": ${first}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${[output, ...issue.path].join(".")}: ${issue.message}`);
    throw new ReferenceError(
      `stack ${name}'s output "${output}" is not what this program reads (${issues.join("; ")}): ${first}`,
    );
  }
  return { value: parsed.data as z.output<(typeof CONTRACTS)[L]["schema"]>, reference };
}
