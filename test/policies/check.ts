/** Table-driven checks: each policy, a compliant resource, and one violating resource per control. */
import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { runResourcePolicy, type PolicyTarget } from "../harness";

export interface ViolatingCase {
  title: string;
  target: PolicyTarget;
  /** A substring the violation message must hold. */
  expect: string | RegExp;
  config?: Record<string, unknown>;
}

export interface PolicyCases {
  policy: ResourceValidationPolicy;
  compliant: { title: string; target: PolicyTarget; config?: Record<string, unknown> }[];
  violating: ViolatingCase[];
}

export async function violationMessages(
  policy: ResourceValidationPolicy,
  target: PolicyTarget,
  config: Record<string, unknown> = {},
) {
  return (await runResourcePolicy(policy, target, config)).violations.map((v) => v.message);
}

export function describePolicy({ policy, compliant, violating }: PolicyCases): void {
  describe(`policy: ${policy.name}`, () => {
    for (const c of compliant) {
      it(`allows ${c.title}`, async () => assert.deepEqual(await violationMessages(policy, c.target, c.config), []));
    }
    for (const c of violating) {
      it(`denies ${c.title}`, async () => {
        const found = await violationMessages(policy, c.target, c.config);
        assert.ok(
          found.some((m) => (typeof c.expect === "string" ? m.includes(c.expect) : c.expect.test(m))),
          `expected ${c.expect}, got:\n${found.join("\n") || "(no violation)"}`,
        );
      });
    }
  });
}
