/**
 * The application's pipeline as one typed model (the original document's §1 stages): the
 * workflows are generated from it, and so are the rulesets' required checks, so a required
 * check always names a job that exists.
 */

export type Stage = "quality" | "security" | "test" | "build" | "integration" | "performance" | "promotion";

export interface PipelineJob {
  /** The job's key in its workflow. */
  id: string;
  /** The check name GitHub shows (for a matrix, each value is appended in parentheses). */
  name: string;
  stage: Stage;
  /** The Rust toolchains a matrix job runs on. */
  matrix?: string[];
  /** Must pass before a pull request may merge. */
  gatesMerge: boolean;
}

/** The pull-request pipeline: quality, security, the test matrix, the image build, integration. */
export const PIPELINE: PipelineJob[] = [
  { id: "format", name: "format", stage: "quality", gatesMerge: true },
  { id: "lint", name: "lint", stage: "quality", gatesMerge: true },
  { id: "docs", name: "docs", stage: "quality", gatesMerge: true },
  { id: "licenses", name: "licenses", stage: "quality", gatesMerge: true },
  { id: "dependency-audit", name: "dependency-audit", stage: "security", gatesMerge: true },
  { id: "secret-scan", name: "secret-scan", stage: "security", gatesMerge: true },
  { id: "static-analysis", name: "static-analysis", stage: "security", gatesMerge: true },
  { id: "test", name: "test", stage: "test", matrix: ["stable", "beta"], gatesMerge: true },
  { id: "container-build", name: "container-build", stage: "build", gatesMerge: true },
  { id: "container-scan", name: "container-scan", stage: "security", gatesMerge: true },
  { id: "integration", name: "integration", stage: "integration", gatesMerge: true },
  { id: "e2e", name: "e2e", stage: "integration", gatesMerge: true },
  { id: "benchmarks", name: "benchmarks", stage: "performance", gatesMerge: false },
];

/** The status-check names GitHub reports for the jobs that gate merging. */
export function requiredChecks(pipeline: PipelineJob[] = PIPELINE): string[] {
  return pipeline
    .filter((job) => job.gatesMerge)
    .flatMap((job) => (job.matrix ? job.matrix.map((m) => `${job.name} (${m})`) : [job.name]));
}
