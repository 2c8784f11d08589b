import * as pulumi from "@pulumi/pulumi";
import * as pulumiservice from "@pulumi/pulumiservice";

export interface ReviewStackTtlArgs {
  /** Hours from the stack's first update until Pulumi Deployments destroys it. */
  ttlHours: number;
  /** When the stack is being created (its first update); tests pin it. */
  now?: Date;
}

/** ISO 8601 without milliseconds, as Pulumi Cloud's schedules take it. */
export function ttlTimestamp(now: Date, hours: number): string {
  return new Date(now.getTime() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A review stack's time to live: a Pulumi Deployments TTL schedule on the stack itself that
 * destroys it, then deletes it, `ttlHours` after its first update, for pull requests left open.
 * Review stacks are created by Deployments with names nobody knows in advance, so each declares
 * its own schedule (the deployments program cannot).
 *
 * The time is fixed at creation, as Pulumi measures a TTL from a stack's creation: later updates
 * ignore the recomputed timestamp. The schedule is retained on delete so that the destroy it
 * runs never deletes the schedule that is running it; the stack's deletion removes it.
 */
export class ReviewStackTtl extends pulumi.ComponentResource {
  /** When the stack will be destroyed, as the schedule holds it. */
  readonly expiresAt: pulumi.Output<string>;

  constructor(name: string, args: ReviewStackTtlArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:governance:ReviewStackTtl", name, {}, opts);
    const schedule = new pulumiservice.TtlSchedule(
      `${name}-schedule`,
      {
        organization: pulumi.getOrganization(),
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        timestamp: ttlTimestamp(args.now ?? new Date(), args.ttlHours),
        deleteAfterDestroy: true,
      },
      { parent: this, ignoreChanges: ["timestamp"], retainOnDelete: true },
    );
    this.expiresAt = schedule.timestamp;
    this.registerOutputs({ expiresAt: this.expiresAt });
  }
}
