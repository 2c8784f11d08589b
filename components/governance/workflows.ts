/**
 * The application repository's GitHub Actions workflows, generated from the pipeline model:
 * the pull-request pipeline (one job per model job, named as the rulesets require it), the
 * benchmarks, and the environment promotion. Third-party actions are pinned by commit SHA,
 * every workflow is read-only by default, and nothing runs on `pull_request_target`.
 */
import { stringify } from "yaml";
import { DOC_RAG_SERVICES } from "../services";
import { PIPELINE, type PipelineJob } from "./pipeline";

/** Actions the workflows use, by commit SHA (the tag in the comment is what it was). */
export const ACTIONS = {
  checkout: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", // v4.2.2
  uploadArtifact: "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02", // v4.6.2
  pulumi: "pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58", // v6.6.1
};

const RUNNER = "ubuntu-24.04";
const IMAGE = "ghcr.io/${{ github.repository }}";
/** Tools installed at pinned versions, so a run is repeatable. */
const TOOLS = {
  cargoDeny: "cargo install --locked cargo-deny --version 0.18.3",
  cargoAudit: "cargo install --locked cargo-audit --version 0.21.2",
  gitleaks: 'docker run --rm -v "$PWD:/repo" zricethezav/gitleaks:v8.24.2 detect --source /repo --redact --no-banner',
  semgrep: "pipx run semgrep==1.119.0 scan --config p/rust --error",
  trivy: `docker run --rm -v /var/run/docker.sock:/var/run/docker.sock aquasec/trivy:0.62.1 image --exit-code 1 --severity HIGH,CRITICAL ${IMAGE}:\${{ github.sha }}`,
};

const checkout = { uses: ACTIONS.checkout, with: { "persist-credentials": false } };

/** What each model job runs. */
const STEPS: Record<string, Record<string, unknown>[]> = {
  format: [{ run: "cargo fmt --all -- --check" }],
  lint: [{ run: "cargo clippy --all-targets --all-features -- -D warnings" }],
  docs: [{ run: "cargo doc --no-deps --all-features", env: { RUSTDOCFLAGS: "-D warnings" } }],
  licenses: [{ run: TOOLS.cargoDeny }, { run: "cargo deny check licenses" }],
  "dependency-audit": [{ run: TOOLS.cargoAudit }, { run: "cargo audit" }],
  "secret-scan": [{ run: TOOLS.gitleaks }],
  "static-analysis": [{ run: TOOLS.semgrep }],
  test: [
    { run: "rustup toolchain install ${{ matrix.rust }} --profile minimal" },
    { run: "cargo +${{ matrix.rust }} test --workspace --all-features" },
  ],
  "container-build": [{ run: `docker build --tag ${IMAGE}:\${{ github.sha }} .` }],
  "container-scan": [{ run: `docker build --tag ${IMAGE}:\${{ github.sha }} .` }, { run: TOOLS.trivy }],
  integration: [{ run: "docker compose -f docker-compose.test.yml run --rm integration" }],
  e2e: [{ run: "docker compose -f docker-compose.test.yml run --rm e2e" }],
  benchmarks: [
    { run: "cargo bench --workspace -- --output-format bencher | tee benchmarks.txt" },
    { uses: ACTIONS.uploadArtifact, with: { name: "benchmarks", path: "benchmarks.txt" } },
  ],
};

/** Jobs that wait for others: integration tests need the image to build. */
const NEEDS: Record<string, string[]> = {
  "container-scan": ["container-build"],
  integration: ["container-build", "test"],
  e2e: ["integration"],
};

function job(j: PipelineJob): Record<string, unknown> {
  return {
    name: j.name,
    "runs-on": RUNNER,
    "timeout-minutes": 30,
    ...(NEEDS[j.id] ? { needs: NEEDS[j.id] } : {}),
    ...(j.matrix ? { strategy: { "fail-fast": false, matrix: { rust: j.matrix } } } : {}),
    steps: [checkout, ...(STEPS[j.id] ?? [])],
  };
}

const readOnly = { contents: "read" };

/** The workflow files, by path in the application repository. */
export function workflowFiles(pipeline: PipelineJob[] = PIPELINE): Record<string, string> {
  const gated = pipeline.filter((j) => j.stage !== "performance" && j.stage !== "promotion");
  const ci = {
    name: "ci",
    on: { pull_request: { branches: ["main", "develop"] }, push: { branches: ["main", "develop"] } },
    permissions: readOnly,
    concurrency: { group: "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": true },
    jobs: Object.fromEntries(gated.map((j) => [j.id, job(j)])),
  };
  const benchmarks = {
    name: "benchmarks",
    on: { push: { branches: ["main"] }, schedule: [{ cron: "0 3 * * 1" }], workflow_dispatch: {} },
    permissions: readOnly,
    jobs: Object.fromEntries(pipeline.filter((j) => j.stage === "performance").map((j) => [j.id, job(j)])),
  };
  // Promotion runs the platform program (its repository in a variable) with the released tag
  // as every service's image; the environment's reviewers gate production.
  const deploy = (stack: string, needs?: string) => ({
    name: `deploy ${stack}`,
    "runs-on": RUNNER,
    environment: stack,
    ...(needs ? { needs } : {}),
    "timeout-minutes": 60,
    steps: [
      { ...checkout, with: { ...checkout.with, repository: "${{ vars.PLATFORM_REPOSITORY }}" } },
      { run: "npm ci && npm ci --prefix policies" },
      // Installs the Pulumi CLI only (no command).
      { uses: ACTIONS.pulumi },
      {
        run: [
          `for svc in ${DOC_RAG_SERVICES.join(" ")}; do`,
          '  pulumi config set --stack "$STACK" --path "doc-rag:services.$svc.image.tag" "$TAG"',
          "done",
          'pulumi up --stack "$STACK" --yes --policy-pack policies --policy-pack-config "policies/config/$STACK.json"',
        ].join("\n"),
        // The tag reaches the script as data, never as code.
        env: { STACK: stack, TAG: "${{ github.ref_name }}", PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" },
      },
    ],
  });
  // Promotion: a release tag goes to staging, then to production behind its environment's reviewers.
  const promote = {
    name: "promote",
    on: { push: { tags: ["v*.*.*"] } },
    permissions: readOnly,
    concurrency: { group: "promote", "cancel-in-progress": false },
    jobs: { staging: deploy("staging"), production: deploy("production", "staging") },
  };
  const header = "# Generated by doc-rag-platform from its pipeline model; edit the model, not this file.\n";
  return Object.fromEntries(
    Object.entries({ ci, benchmarks, promote }).map(([name, workflow]) => [
      `.github/workflows/${name}.yml`,
      header + stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false }),
    ]),
  );
}
