import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { SHARED_COMPONENT_TYPE, SHARED_COMPONENT_URN_TAIL, SHARED_COMPONENTS } from "../components/environment/shared";
import { engineUrns } from "../lib/migration";
import { main, planStackMove } from "../tools/migrate";
import { captureConsole, runEnvironment, runStack, type RecordedResource } from "./harness";

/** A `pulumi stack export` of a stack the single-stack program made: what the offline plan would leave. */
function exportOf(resources: readonly RecordedResource[], stack: string) {
  const urns = engineUrns(resources);
  return {
    version: 3,
    deployment: {
      manifest: { time: "2026-12-03T00:00:00Z", magic: "", version: "v3.248.0" },
      resources: [
        {
          urn: `urn:pulumi:${stack}::doc-rag::pulumi:pulumi:Stack::doc-rag-${stack}`,
          type: "pulumi:pulumi:Stack",
          custom: false,
        },
        ...resources.map((r) => ({
          urn: urns.get(r.urn)!,
          type: r.type,
          custom: r.custom,
          ...(r.parent ? { parent: urns.get(r.parent) } : {}),
          inputs: r.inputs,
          protect: r.options.protect,
        })),
      ],
    },
  };
}

describe("moving a stack made before the split into the project stacks", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-rag-migrate-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Production (the real lane moves dev with the real CLI: npm run e2e -- dev --migration).
  for (const stack of ["production"]) {
    it(`${stack}: every resource moves to the one project that registers it, unchanged, and nothing is destroyed`, async () => {
      const single = await runStack(stack);
      const state = path.join(dir, "state.json");
      fs.writeFileSync(state, JSON.stringify(exportOf(single.resources, stack)));
      const plan = await planStackMove(stack, state);
      assert.deepEqual(plan.unplaced, []);
      // The two components each of two projects builds a part of: they stay, their children move.
      assert.deepEqual(
        [...plan.sharedComponents].sort(),
        SHARED_COMPONENTS.map((c) => `urn:pulumi:${stack}::doc-rag::${c.type}::${c.name}`).sort(),
      );
      const moved = plan.moves.flatMap((m) => m.urns);
      assert.equal(new Set(moved).size, moved.length, "no resource moves twice");

      // The state after `pulumi state move`, project by project, against what each program registers.
      const environment = await runEnvironment(stack);
      const singleUrns = engineUrns(single.resources);
      const before = new Map(single.resources.map((r) => [singleUrns.get(r.urn)!, r]));
      const updated: string[] = [];
      for (const { layer, project, urns } of plan.moves) {
        const layerRun = environment.layers[layer]!;
        const layerUrns = engineUrns(layerRun.resources);
        // Where each registered resource is found after the move: its URN, or (a descendant of a
        // component two projects share, which stays behind) the URN without that component, which an
        // alias on the component's direct children gives it.
        const adopted = new Map<string, RecordedResource>();
        for (const r of layerRun.resources) {
          const urn = layerUrns.get(r.urn)!;
          adopted.set(urn, r);
          const without = urn.replace(new RegExp(`::${SHARED_COMPONENT_TYPE}\\$`), "::");
          if (without !== urn) adopted.set(without, r);
        }
        const arrived = new Set<RecordedResource>();
        for (const urn of urns) {
          const target = adopted.get(plan.renamed[urn]!);
          assert.ok(target, `${project} adopts ${plan.renamed[urn]} (moved from ${urn})`);
          arrived.add(target);
          if (!isDeepStrictEqual(before.get(urn)!.inputs, target.inputs)) updated.push(target.name);
        }
        // The shared components' direct children carry the alias that finds them where the move put them.
        for (const r of layerRun.resources.filter(
          (r) => r.parent && new RegExp(`::${SHARED_COMPONENT_TYPE}::`).test(r.parent),
        )) {
          assert.deepEqual(r.options.aliases, ["parent:none"], r.urn);
        }
        // What the project registers that was not moved: only what the split adds.
        const created = layerRun.resources
          .filter((r) => !arrived.has(r) && !r.type.startsWith("pulumi:providers:"))
          .map((r) => `${r.type}::${r.name}`);
        for (const what of created) {
          assert.match(
            what,
            new RegExp(
              `^(pulumi:pulumi:StackReference::|${SHARED_COMPONENT_URN_TAIL}$|kubernetes:.*::(app|data)-deployer$)`,
            ),
            `${project} creates ${what}`,
          );
        }
      }
      // One update in place: the project a release deploys is the app project now. Everything else is unchanged.
      assert.deepEqual(updated, ["github-variable-pulumi_project"]);
      // Every protected resource (the data, the namespaces) is among those moved: none is destroyed.
      const protectedUrns = single.resources.filter((r) => r.options.protect).map((r) => singleUrns.get(r.urn)!);
      assert.ok(protectedUrns.length > 10);
      for (const urn of protectedUrns) assert.ok(moved.includes(urn), urn);
    });
  }

  it("writes the commands in bring-up order, and refuses a stack holding what no project registers", async () => {
    const single = await runStack("production");
    const state = path.join(dir, "state.json");
    fs.writeFileSync(state, JSON.stringify(exportOf(single.resources, "production")));
    const out = path.join(dir, "out");
    const ok = await captureConsole(() =>
      main(["production", "--state", state, "--out", out, "--organization", "acme"]),
    );
    assert.equal(ok.code, 0, ok.stderr);
    const script = fs.readFileSync(path.join(out, "migrate.sh"), "utf8");
    const moves = [
      ...script.matchAll(
        /^pulumi state move --cwd projects\/(\w+) --source acme\/doc-rag\/production --dest acme\/doc-rag-(\w+)\/production --yes/gm,
      ),
    ];
    assert.deepEqual(
      moves.map((m) => [m[1], m[2]]),
      [
        ["cluster", "cluster"],
        ["data", "data"],
        ["app", "app"],
        ["governance", "governance"],
      ],
    );
    assert.match(
      script,
      /^ {2}'urn:pulumi:production::doc-rag::doc-rag:delivery:Delivery\$doc-rag:delivery:Edge\$kubernetes:helm\.sh\/v3:Release::delivery-edge-envoy-gateway'/m,
    );

    const stray = exportOf(single.resources, "production");
    stray.deployment.resources.push({
      urn: "urn:pulumi:production::doc-rag::kubernetes:core/v1:ConfigMap::left-over",
      type: "kubernetes:core/v1:ConfigMap",
      custom: true,
      inputs: {},
      protect: false,
    });
    fs.writeFileSync(state, JSON.stringify(stray));
    const refused = await captureConsole(() =>
      main(["production", "--state", state, "--out", path.join(dir, "refused")]),
    );
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /1 resources of the stack are registered by no project; moving would leave them behind:\n {2}urn:pulumi:production::doc-rag::kubernetes:core\/v1:ConfigMap::left-over/,
    );
    assert.ok(!fs.existsSync(path.join(dir, "refused")));
    fs.writeFileSync(state, "{}");
    assert.match(
      (await captureConsole(() => main(["production", "--state", state, "--out", out]))).stderr,
      /not a stack export/,
    );
  });
});
