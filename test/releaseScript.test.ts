/**
 * The release jobs' script, as release.yml carries it, run by bash against stand-ins for Pulumi Cloud,
 * ESC and GitHub's OIDC endpoint (test/fixtures/release/fake.cjs) with the real jq: one deployment per
 * release, the record written only once the Rollouts are healthy, a re-run that changes nothing.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { ROLLOUTS_API } from "../components/delivery/rollouts";
import { workflowFiles } from "../components/governance/workflows";
import { PROJECT_ROOT } from "./harness";

const FAKE = path.join(PROJECT_ROOT, "test", "fixtures", "release", "fake.cjs");
const RELEASE = { version: "v1.4.2", images: { api: `sha256:${"a".repeat(64)}` } };

interface Step {
  run: string;
  env: Record<string, string>;
}
const release = parse(workflowFiles()[".github/workflows/release.yml"]!) as {
  jobs: Record<string, { steps: Step[] }>;
};
const stepOf = (stage: string) => release.jobs[stage]!.steps.at(-1)!;

const rollout = (phase: string, generation = 3, observed = String(generation)) => ({
  type: `kubernetes:${ROLLOUTS_API}:Rollout`,
  outputs: { metadata: { name: "api", generation }, status: { phase, observedGeneration: observed } },
});
const exportOf = (...phases: ReturnType<typeof rollout>[]) => ({ deployment: { resources: phases } });

interface Call {
  tool: string;
  unauthorized?: string | null;
  method?: string;
  url?: string;
  body?: string;
  retry?: string;
  verb?: string;
  env?: string;
  key?: string;
  value?: string;
}

interface Run {
  status: number;
  output: string;
  calls: Call[];
  outputs: string;
  state: Record<string, unknown>;
}

/** Runs a stage's script as GitHub would (bash -eo pipefail) with the fakes first on the PATH. */
async function runRelease(
  stage: "staging" | "production",
  state: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-release-"));
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const wrapper = (tool: string) => `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" ${tool} "$@"\n`;
    // Polls wait on the fake's clock, which `date` reads: no real wait, and hours pass as the script counts them.
    for (const tool of ["curl", "pulumi", "date", "sleep"])
      fs.writeFileSync(path.join(bin, tool), wrapper(tool), { mode: 0o755 });
    const files = { state: path.join(dir, "state.json"), log: path.join(dir, "calls.log"), out: path.join(dir, "out") };
    fs.writeFileSync(files.state, JSON.stringify({ esc: {}, deployments: [], gitHead: "f00dcafe", ...state }));
    fs.writeFileSync(files.log, "");
    fs.writeFileSync(files.out, "");
    const step = stepOf(stage);
    const stepEnv = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, /^\$\{\{/.test(v) ? "" : v]));
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
      env: {
        PATH: `${bin}:${process.env["PATH"] ?? ""}`,
        FAKE_STATE: files.state,
        FAKE_LOG: files.log,
        GITHUB_OUTPUT: files.out,
        RUNNER_TEMP: dir,
        GITHUB_RUN_ID: "4242",
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/request?run=1",
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
        ...stepEnv,
        PULUMI_ORGANIZATION: "acme",
        PULUMI_PROJECT: "doc-rag-app",
        PULUMI_ESC_PROJECT: "doc-rag",
        RELEASE: JSON.stringify(RELEASE),
        ...env,
      },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    return {
      status,
      output,
      calls: fs
        .readFileSync(files.log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Call),
      outputs: fs.readFileSync(files.out, "utf8"),
      state: JSON.parse(fs.readFileSync(files.state, "utf8")) as Record<string, unknown>,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const deploymentsStarted = (calls: Call[]) =>
  calls
    .filter((c) => c.method === "POST" && c.url?.endsWith("/deployments"))
    .map((c) => JSON.parse(c.body!) as Record<string, unknown>);
const escWrites = (calls: Call[]) => calls.filter((c) => c.tool === "pulumi" && c.verb === "set").map((c) => c.key);

/** Every run the tests read, started together (each is a chain of short processes: two cores run two). */
const SCENARIOS = {
  fresh: () => runRelease("staging", { exports: [exportOf(rollout("Progressing")), exportOf(rollout("Healthy"))] }),
  verified: () =>
    runRelease("staging", {
      esc: { "acme/doc-rag/staging-release": { verified: { release: RELEASE, platformCommit: "f00dcafe" } } },
      exports: [exportOf(rollout("Healthy"))],
    }),
  attempted: () =>
    runRelease("staging", {
      esc: { "acme/doc-rag/staging-release": { deploying: { release: RELEASE, deployment: "d1" } } },
      deployments: [{ id: "d1", version: 1, pulumiOperation: "update", status: "running", outcome: "succeeded" }],
      exports: [exportOf(rollout("Healthy"))],
    }),
  attemptFailed: () =>
    runRelease("staging", {
      esc: { "acme/doc-rag/staging-release": { deploying: { release: RELEASE, deployment: "d1" } } },
      deployments: [{ id: "d1", version: 1, pulumiOperation: "update", status: "failed", outcome: "failed" }],
      exports: [exportOf(rollout("Healthy"))],
    }),
  earlier: () =>
    runRelease("staging", {
      deployments: [{ id: "d0", version: 0, pulumiOperation: "update", status: "running", outcome: "succeeded" }],
      exports: [exportOf(rollout("Healthy"))],
    }),
  skipped: () =>
    runRelease("staging", {
      outcomes: { update: "skipped" },
      // The controller has not yet seen generation 4: its Healthy is the previous revision's.
      exports: [exportOf({ ...rollout("Healthy", 4, "3") }), exportOf(rollout("Healthy", 4))],
    }),
  // A drift check starts after the deployment that ran instead of the skipped one: the newest is not the update.
  skippedThenDrift: () =>
    runRelease("staging", {
      outcomes: { update: "skipped" },
      driftAfterSkip: true,
      exports: [exportOf(rollout("Healthy"))],
    }),
  degraded: () => runRelease("staging", { exports: [exportOf(rollout("Degraded"))] }),
  // Production waits for a person to promote its canary: 3 hours of polls, past one token's 2-hour life.
  longWait: () =>
    runRelease(
      "production",
      { exports: [...Array.from({ length: 36 }, () => exportOf(rollout("Paused"))), exportOf(rollout("Healthy"))] },
      { VERSION: "v1.4.2", PLATFORM_COMMIT: "5eed" },
    ),
  production: () =>
    runRelease(
      "production",
      { exports: [exportOf(rollout("Healthy"))] },
      { VERSION: "v1.4.2", PLATFORM_COMMIT: "5eed" },
    ),
  otherTag: () => runRelease("production", { exports: [] }, { VERSION: "v1.5.0", PLATFORM_COMMIT: "5eed" }),
};
let runs: { [K in keyof typeof SCENARIOS]: Promise<Run> };

describe("the release script (release.yml's staging and production jobs)", () => {
  before(() => {
    runs = Object.fromEntries(Object.entries(SCENARIOS).map(([name, start]) => [name, start()])) as typeof runs;
  });

  it("staging: one update, healthy Rollouts read by refresh, and only then the verified record", async () => {
    const run = await runs.fresh;
    assert.equal(run.status, 0, run.output);
    const started = deploymentsStarted(run.calls);
    assert.deepEqual(
      started.map((d) => d["operation"]),
      ["update", "refresh", "refresh"],
    );
    // The refreshes run the platform commit the update ran.
    assert.deepEqual(started[1], { operation: "refresh", sourceContext: { git: { commit: "f00dcafe" } } });
    assert.deepEqual(escWrites(run.calls), ['pulumiConfig["doc-rag:release"]', "deploying", "verified"]);
    const lastExport = run.calls
      .map((c) => c.url ?? "")
      .lastIndexOf("https://api.pulumi.com/api/stacks/acme/doc-rag-app/staging/export");
    const recorded = run.calls.findIndex((c) => c.verb === "set" && c.key === "verified");
    assert.ok(recorded > lastExport, "the record follows the healthy read");
    const record = (run.state["esc"] as Record<string, Record<string, Record<string, unknown>>>)[
      "acme/doc-rag/staging-release"
    ]!["verified"]!;
    assert.deepEqual(record["release"], RELEASE);
    assert.equal(record["platformCommit"], "f00dcafe");
    assert.match(run.outputs, /^release=\{"version":"v1\.4\.2",.*\}$/m);
    assert.match(run.outputs, /^platform-commit=f00dcafe$/m);
    // The team token of staging's team, for the job's OIDC token; every Pulumi Cloud call retries.
    const exchange = run.calls.find((c) => c.url === "https://api.pulumi.com/api/oauth/token")!;
    assert.deepEqual(
      { ...JSON.parse(exchange.body!), subject_token: undefined },
      {
        audience: "urn:pulumi:org:acme",
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
        subject_token: undefined,
        requested_token_type: "urn:pulumi:token-type:access_token:team",
        scope: "team:doc-rag-release-staging",
        expiration: 7200,
      },
    );
    assert.ok(run.calls.filter((c) => c.tool === "curl").every((c) => Number(c.retry) >= 5));
  });

  it("a re-run of a release already verified starts nothing and writes nothing", async () => {
    const run = await runs.verified;
    assert.equal(run.status, 0, run.output);
    assert.deepEqual(deploymentsStarted(run.calls), []);
    assert.deepEqual(escWrites(run.calls), []);
    assert.match(run.outputs, /^platform-commit=f00dcafe$/m);
  });

  it("a re-run waits for the update a previous attempt started for this release instead of starting a second", async () => {
    const run = await runs.attempted;
    assert.equal(run.status, 0, run.output);
    assert.deepEqual(
      deploymentsStarted(run.calls).map((d) => d["operation"]),
      ["refresh"],
    );
    // Its update failed: a re-run starts a new one.
    const failed = await runs.attemptFailed;
    assert.equal(failed.status, 0, failed.output);
    assert.deepEqual(
      deploymentsStarted(failed.calls).map((d) => d["operation"]),
      ["update", "refresh"],
    );
  });

  it("lets a deployment from before the release finish, then starts the release's own update", async () => {
    const run = await runs.earlier;
    assert.equal(run.status, 0, run.output);
    const calls = run.calls.map((c) => `${c.method ?? c.verb} ${c.url ?? c.key}`);
    const waited = calls.lastIndexOf("GET https://api.pulumi.com/api/stacks/acme/doc-rag-app/staging/deployments/d0");
    const started = calls.indexOf("POST https://api.pulumi.com/api/stacks/acme/doc-rag-app/staging/deployments");
    assert.ok(waited >= 0 && waited < started, "the earlier deployment ends before the release's starts");
    assert.deepEqual(
      deploymentsStarted(run.calls).map((d) => d["operation"]),
      ["update", "refresh"],
    );
  });

  it("follows a deployment skipped for a newer one, and reads a stale Healthy as not yet healthy", async () => {
    const run = await runs.skipped;
    assert.equal(run.status, 0, run.output);
    assert.equal(run.calls.filter((c) => c.url?.endsWith("/export")).length, 2, "the stale phase is read again");
  });

  it("follows a skipped update to the update that ran instead, not to a drift check that started after it", async () => {
    const run = await runs.skippedThenDrift;
    assert.equal(run.status, 0, run.output);
    const deployments = run.state["deployments"] as { id: string; pulumiOperation: string; status: string }[];
    // d1 skipped, d2 the update that ran instead, d3 a drift check that failed (it found drift).
    assert.deepEqual(
      deployments.slice(0, 3).map((d) => [d.id, d.pulumiOperation, d.status]),
      [
        ["d1", "update", "skipped"],
        ["d2", "update", "succeeded"],
        ["d3", "detect-drift", "failed"],
      ],
    );
    assert.ok(
      run.calls.some((c) => c.url?.endsWith("/deployments/d2")),
      "the update that ran instead is waited for",
    );
    assert.match(
      run.outputs,
      /^platform-commit=f00dcafe$/m,
      "the release is recorded: the drift check's failure is not its own",
    );
  });

  it("renews the team token before it expires: a 3-hour production wait never calls with an expired one", async () => {
    const run = await runs.longWait;
    assert.equal(run.status, 0, run.output);
    assert.deepEqual(
      run.calls.filter((c) => "unauthorized" in c),
      [],
      "no call with an expired token",
    );
    const exchanges = run.calls.filter((c) => c.url === "https://api.pulumi.com/api/oauth/token");
    // 3 hours at 3/4 of 7200 s a token: the first, then renewals at 1.5 h and 3 h.
    assert.ok(exchanges.length >= 2, `${exchanges.length} exchanges`);
    assert.equal(run.calls.filter((c) => c.url?.endsWith("/export")).length, 37);
    assert.match(run.outputs, /^platform-commit=5eed$/m);
  });

  it("fails on a Degraded Rollout (an aborted canary) and records nothing", async () => {
    const run = await runs.degraded;
    assert.equal(run.status, 1);
    assert.match(run.output, /a Rollout of staging is Degraded/);
    assert.deepEqual(escWrites(run.calls), ['pulumiConfig["doc-rag:release"]', "deploying"]);
  });

  it("production: deploys the platform commit staging verified, and refuses a record of another tag", async () => {
    const run = await runs.production;
    assert.equal(run.status, 0, run.output);
    assert.deepEqual(deploymentsStarted(run.calls)[0], {
      operation: "update",
      sourceContext: { git: { commit: "5eed" } },
    });
    assert.equal(
      run.calls
        .find((c) => c.url === "https://api.pulumi.com/api/oauth/token")!
        .body!.includes("team:doc-rag-release-production"),
      true,
    );
    const other = await runs.otherTag;
    assert.equal(other.status, 1);
    assert.match(other.output, /staging verified v1\.4\.2, not v1\.5\.0/);
    assert.deepEqual(
      other.calls.filter((c) => c.tool === "pulumi" || c.url?.includes("/stacks/")),
      [],
      "nothing read or written",
    );
  });
});
