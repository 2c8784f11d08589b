import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main, parseUpArgs } from "../tools/up";
import { captureConsole, PROJECT_ROOT } from "./harness";

/**
 * A stand-in `pulumi` that records where and how it was called, and fails in the project named by
 * $FAIL_IN: what `npm run up` runs and in which order, without a Pulumi Cloud.
 */
function fakePulumi(dir: string): { bin: string; calls: () => string[] } {
  const log = path.join(dir, "calls.log");
  const bin = path.join(dir, "pulumi");
  fs.writeFileSync(
    bin,
    `#!/bin/sh\necho "$(basename "$PWD") $*" >> "${log}"\n[ "$(basename "$PWD")" = "$FAIL_IN" ] && exit 3\nexit 0\n`,
    { mode: 0o755 },
  );
  const calls = () =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((line) => line.replaceAll(PROJECT_ROOT, "<root>"))
      : [];
  return { bin, calls };
}

describe("npm run up: a whole environment with the real CLI, project by project", () => {
  let dir: string;
  let fake: ReturnType<typeof fakePulumi>;
  const saved = { PULUMI: process.env["PULUMI"], FAIL_IN: process.env["FAIL_IN"] };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-up-"));
    fake = fakePulumi(dir);
    process.env["PULUMI"] = fake.bin;
    delete process.env["FAIL_IN"];
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("brings up production's four projects in order, each judged by the pack with the stack's policy config", async () => {
    const { code } = await captureConsole(() => main(["production", "--", "--yes"]));
    assert.equal(code, 0);
    const pack = "--policy-pack <root>/policies --policy-pack-config <root>/policies/config/production.json";
    assert.deepEqual(fake.calls(), [
      `cluster up --stack production ${pack} --yes`,
      `data up --stack production ${pack} --yes`,
      `app up --stack production ${pack} --yes`,
      `governance up --stack production ${pack} --yes`,
    ]);
  });

  it("stops at the first project that fails, and destroys in the reverse order", async () => {
    process.env["FAIL_IN"] = "data";
    const failed = await captureConsole(() => main(["dev", "--preview"]));
    assert.equal(failed.code, 3);
    assert.match(failed.stderr, /doc-rag-data failed \(exit 3\); the projects after it were not run/);
    assert.deepEqual(
      fake.calls().map((c) => c.split(" ").slice(0, 2).join(" ")),
      ["cluster preview", "data preview"],
    );
    delete process.env["FAIL_IN"];
    fs.rmSync(path.join(dir, "calls.log"));
    assert.equal((await captureConsole(() => main(["dev", "--destroy"]))).code, 0);
    assert.deepEqual(fake.calls(), [
      "app destroy --stack dev",
      "data destroy --stack dev",
      "cluster destroy --stack dev",
    ]);
  });

  it("runs one project, and refuses what an environment does not have", async () => {
    assert.equal((await captureConsole(() => main(["staging", "--project", "app"]))).code, 0);
    assert.deepEqual(
      fake.calls().map((c) => c.split(" ")[0]),
      ["app"],
    );
    const governance = await captureConsole(() => main(["dev", "--project", "governance"]));
    assert.equal(governance.code, 2);
    assert.match(governance.stderr, /stack dev has no governance project stack \(its projects: cluster, data, app\)/);
    const review = await captureConsole(() => main(["pr"]));
    assert.equal(review.code, 2);
    assert.match(review.stderr, /a review stack is one stack of the single-stack project/);
    assert.throws(() => parseUpArgs(["dev", "--project", "web"]), /--project "web": must be one of cluster/);
    assert.throws(() => parseUpArgs(["dev", "--preview", "--destroy"]), /exclude each other/);
    assert.equal((await captureConsole(() => main(["../dev"]))).code, 2);
    assert.deepEqual(fake.calls(), [
      "app up --stack staging --policy-pack <root>/policies --policy-pack-config <root>/policies/config/staging.json",
    ]);
  });
});
