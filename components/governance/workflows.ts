/**
 * The application repository's GitHub Actions workflows, generated from the pipeline model:
 * the pull-request pipeline (one job per model job, named as the rulesets require it), the
 * benchmarks, and the release. Actions and images come from the pin table (.github/pins/), each
 * with its release tag as a comment; every workflow is read-only by default, runs bash with
 * pipefail, and nothing runs on `pull_request_target`.
 */
import { Document, isScalar, visit } from "yaml";
import { DOC_RAG_SERVICES } from "../services";
import {
  PIPELINE,
  RELEASE,
  releaseEnvironmentName,
  releaseTeam,
  type PipelineJob,
  type ReleaseEnvironment,
} from "./pipeline";
import { releaseJobMinutes, releaseScript } from "./releaseScript";
import { PINS, pinnedAction, pinnedImage, tagOfPin, type Pins } from "./pins";

const RUNNER = "ubuntu-24.04";
const IMAGE = "ghcr.io/${{ github.repository }}";

/** The workflows' building blocks, from one pin table. */
function blocks(pins: Pins) {
  const checkout = { uses: pinnedAction("actions/checkout", pins), with: { "persist-credentials": false } };
  /** Tools installed at pinned versions, so a run is repeatable. */
  const tools = {
    cargoDeny: "cargo install --locked cargo-deny --version 0.18.3",
    cargoAudit: "cargo install --locked cargo-audit --version 0.21.2",
    semgrep: "pipx run semgrep==1.119.0 scan --config p/rust --error",
    trivy: `docker run --rm -v /var/run/docker.sock:/var/run/docker.sock ${pinnedImage("trivy", pins)} image --exit-code 1 --severity HIGH,CRITICAL "$IMAGE"`,
  };
  const imageEnv = { IMAGE: `${IMAGE}:\${{ github.sha }}` };

  // Every commit the push or the pull request brings, not only the last: the range comes in as
  // data, and a new branch (before = 0000…) is scanned whole.
  const secretScan = {
    run: [
      'if [[ -z "$BASE" || "$BASE" =~ ^0+$ ]]; then range="$HEAD"; else range="$BASE..$HEAD"; fi',
      `docker run --rm -v "$PWD:/repo" ${pinnedImage("gitleaks", pins)} detect --source /repo --redact --no-banner --log-opts="$range"`,
    ].join("\n"),
    env: {
      BASE: "${{ github.event.pull_request.base.sha || github.event.before }}",
      HEAD: "${{ github.event.pull_request.head.sha || github.sha }}",
    },
  };

  const steps: Record<string, Record<string, unknown>[]> = {
    format: [checkout, { run: "cargo fmt --all -- --check" }],
    lint: [checkout, { run: "cargo clippy --all-targets --all-features -- -D warnings" }],
    docs: [checkout, { run: "cargo doc --no-deps --all-features", env: { RUSTDOCFLAGS: "-D warnings" } }],
    licenses: [checkout, { run: tools.cargoDeny }, { run: "cargo deny check licenses" }],
    "dependency-audit": [checkout, { run: tools.cargoAudit }, { run: "cargo audit" }],
    "secret-scan": [{ ...checkout, with: { ...checkout.with, "fetch-depth": 0 } }, secretScan],
    "static-analysis": [checkout, { run: tools.semgrep }],
    test: [
      checkout,
      { run: 'rustup toolchain install "$RUST" --profile minimal', env: { RUST: "${{ matrix.rust }}" } },
      { run: 'cargo "+$RUST" test --workspace --all-features', env: { RUST: "${{ matrix.rust }}" } },
    ],
    "container-build": [checkout, { run: 'docker build --tag "$IMAGE" .', env: imageEnv }],
    "container-scan": [
      checkout,
      { run: 'docker build --tag "$IMAGE" .', env: imageEnv },
      { run: tools.trivy, env: imageEnv },
    ],
    integration: [checkout, { run: "docker compose -f docker-compose.test.yml run --rm integration" }],
    e2e: [checkout, { run: "docker compose -f docker-compose.test.yml run --rm e2e" }],
    // The pipe is safe: every workflow runs bash with -o pipefail, so a failing bench fails the job.
    benchmarks: [
      checkout,
      { run: "cargo bench --workspace -- --output-format bencher | tee benchmarks.txt" },
      { uses: pinnedAction("actions/upload-artifact", pins), with: { name: "benchmarks", path: "benchmarks.txt" } },
    ],
  };
  return { checkout, steps };
}

/** Jobs that wait for others: integration tests need the image to build. */
const NEEDS: Record<string, string[]> = {
  "container-scan": ["container-build"],
  integration: ["container-build", "test"],
  e2e: ["integration"],
};

const readOnly = { contents: "read" };
/** GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`; the implicit default lacks pipefail. */
const defaults = { run: { shell: "bash" } };

/**
 * The release: a tag on main builds every service's image once, then the same digests go to
 * staging and, behind production's reviewers, to production with the platform commit staging ran.
 * Each environment's release is set in its stack's ESC environment, which the stack imports, so a
 * later update of the stack (a merge to the platform, drift remediation) deploys the same images;
 * it is recorded as verified only once its Rollouts are healthy (releaseScript.ts).
 */
function releaseWorkflow(pins: Pins, checkout: ReturnType<typeof blocks>["checkout"]): Record<string, unknown> {
  const publish = {
    name: "publish the release images",
    "runs-on": RUNNER,
    "timeout-minutes": 60,
    permissions: { contents: "read", packages: "write" },
    outputs: { release: "${{ steps.push.outputs.release }}" },
    steps: [
      { ...checkout, with: { ...checkout.with, "fetch-depth": 0 } },
      {
        name: "A release is a tag on main",
        run: 'git merge-base --is-ancestor "$GITHUB_SHA" origin/main || { echo "::error::$GITHUB_REF_NAME is not on main"; exit 1; }',
      },
      {
        name: "Log in to the registry",
        run: 'echo "$GITHUB_TOKEN" | docker login ghcr.io --username "$GITHUB_ACTOR" --password-stdin',
        env: { GITHUB_TOKEN: "${{ secrets.GITHUB_TOKEN }}" },
      },
      {
        id: "push",
        name: "Build and push every service, recording each image's digest",
        run: [
          "release=$(jq -n --arg version \"$GITHUB_REF_NAME\" '{version: $version, images: {}}')",
          `for svc in ${DOC_RAG_SERVICES.join(" ")}; do`,
          '  image="ghcr.io/$GITHUB_REPOSITORY_OWNER/$svc:$GITHUB_REF_NAME"',
          '  docker build --build-arg "SERVICE=$svc" --tag "$image" .',
          '  docker push "$image"',
          '  digest=$(docker inspect --format "{{index .RepoDigests 0}}" "$image" | cut -d@ -f2)',
          '  release=$(jq --arg svc "$svc" --arg digest "$digest" \'.images[$svc] = $digest\' <<<"$release")',
          "done",
          'echo "release=$(jq -c . <<<"$release")" >>"$GITHUB_OUTPUT"',
          'jq . <<<"$release" >release.json',
        ].join("\n"),
      },
      {
        uses: pinnedAction("actions/upload-artifact", pins),
        with: { name: "release", path: "release.json", "retention-days": 90 },
      },
    ],
  };
  const deploy = (stack: ReleaseEnvironment, previous?: ReleaseEnvironment) => ({
    name: `release to ${stack}`,
    "runs-on": RUNNER,
    environment: stack,
    needs: previous ?? "publish",
    "timeout-minutes": releaseJobMinutes(stack),
    // One release at a time per environment: a newer one waits for a running one, never cancels it,
    // and staging is not held behind production's approval.
    concurrency: { group: `release-${stack}`, "cancel-in-progress": false },
    // id-token: the job's OIDC token, which Pulumi Cloud exchanges for this environment's team token; it checks
    // nothing out, so no contents (the access model, components/governance/access/, holds every job to what it uses).
    permissions: { "id-token": "write" },
    outputs: {
      release: "${{ steps.release.outputs.release }}",
      "platform-commit": "${{ steps.release.outputs.platform-commit }}",
    },
    steps: [
      // Installs the Pulumi CLI only (no command): for `pulumi env`.
      { uses: pinnedAction("pulumi/actions", pins) },
      {
        id: "release",
        name: previous
          ? `Deploy the release and platform commit ${previous} verified, wait for healthy Rollouts, record it`
          : `Deploy the release to ${stack}, wait for healthy Rollouts, record it`,
        run: releaseScript(stack, previous),
        // Everything from the event reaches the script as data, never spliced into it.
        env: {
          STACK: stack,
          RELEASE_ENV: releaseEnvironmentName(stack),
          PULUMI_TEAM: releaseTeam(stack),
          ...(previous
            ? {
                RELEASE: `\${{ needs.${previous}.outputs.release }}`,
                PLATFORM_COMMIT: `\${{ needs.${previous}.outputs.platform-commit }}`,
                VERSION: "${{ github.ref_name }}",
              }
            : { RELEASE: "${{ needs.publish.outputs.release }}" }),
          PULUMI_ORGANIZATION: "${{ vars.PULUMI_ORGANIZATION }}",
          PULUMI_PROJECT: "${{ vars.PULUMI_PROJECT }}",
          PULUMI_ESC_PROJECT: "${{ vars.PULUMI_ESC_PROJECT }}",
        },
      },
    ],
  });
  const [first, ...rest] = RELEASE.environments;
  const jobs: Record<string, unknown> = { publish, [first]: deploy(first) };
  rest.forEach((env, i) => (jobs[env] = deploy(env, RELEASE.environments[i])));
  return {
    name: "release",
    on: { push: { tags: [RELEASE.tagPattern] } },
    permissions: readOnly,
    defaults,
    jobs,
  };
}

function job(j: PipelineJob, steps: Record<string, Record<string, unknown>[]>): Record<string, unknown> {
  return {
    name: j.name,
    "runs-on": RUNNER,
    "timeout-minutes": 30,
    ...(NEEDS[j.id] ? { needs: NEEDS[j.id] } : {}),
    ...(j.matrix ? { strategy: { "fail-fast": false, matrix: { rust: j.matrix } } } : {}),
    steps: steps[j.id] ?? [],
  };
}

/** YAML with each pinned action's release tag as a comment beside its SHA. */
function toYaml(workflow: Record<string, unknown>, pins: Pins): string {
  const doc = new Document(workflow, { aliasDuplicateObjects: false });
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === "uses" && isScalar(pair.value)) {
        const tag = tagOfPin(String(pair.value.value), pins);
        if (tag) pair.value.comment = ` ${tag}`;
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** The workflow files, by path in the application repository. */
export function workflowFiles(pipeline: PipelineJob[] = PIPELINE, pins: Pins = PINS): Record<string, string> {
  const { checkout, steps } = blocks(pins);
  const gated = pipeline.filter((j) => j.stage !== "performance" && j.stage !== "promotion");
  const ci = {
    name: "ci",
    on: { pull_request: { branches: ["main", "develop"] }, push: { branches: ["main", "develop"] } },
    permissions: readOnly,
    defaults,
    concurrency: { group: "${{ github.workflow }}-${{ github.ref }}", "cancel-in-progress": true },
    jobs: Object.fromEntries(gated.map((j) => [j.id, job(j, steps)])),
  };
  const benchmarks = {
    name: "benchmarks",
    on: { push: { branches: ["main"] }, schedule: [{ cron: "0 3 * * 1" }], workflow_dispatch: {} },
    permissions: readOnly,
    defaults,
    jobs: Object.fromEntries(pipeline.filter((j) => j.stage === "performance").map((j) => [j.id, job(j, steps)])),
  };
  const header = "# Generated by doc-rag-platform from its pipeline model; edit the model, not this file.\n";
  return Object.fromEntries(
    Object.entries({ ci, benchmarks, release: releaseWorkflow(pins, checkout) }).map(([name, workflow]) => [
      `.github/workflows/${name}.yml`,
      header + toYaml(workflow, pins),
    ]),
  );
}
