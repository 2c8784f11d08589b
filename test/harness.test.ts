import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { mocks } from "../lib/mocks";
import {
  applyOverrides,
  fakeValue,
  find,
  isSecret,
  readStackConfig,
  redactSecrets,
  runStack,
  secret,
  SECRET_SIGNATURE,
  secretPlaceholder,
  unwrapSecrets,
  type StackRun,
} from "./harness";

const PROBE = path.join(__dirname, "fixtures", "harness-probe");

describe("harness", () => {
  let run: StackRun;
  before(async () => {
    run = await runStack("probe", { root: PROBE });
    assert.equal(run.error, undefined, run.error?.message);
  });

  it("marks secrets exactly as the SDK does", () => {
    assert.equal(SECRET_SIGNATURE.specialSigKey, pulumi.runtime.specialSigKey);
    assert.equal(SECRET_SIGNATURE.specialSecretSig, pulumi.runtime.specialSecretSig);
  });

  it("records type, name, parent and provider of each registration", () => {
    const box = find(run, "probe:test:Box", "box");
    const first = find(run, "kubernetes:core/v1:ConfigMap", "first");
    assert.equal(box.custom, false);
    assert.equal(first.parent, box.urn);
    assert.equal(first.provider, `${find(run, "pulumi:providers:kubernetes", "cluster").urn}::cluster-id`);
  });

  it("records resource options: protect, retainOnDelete, aliases, ignoreChanges, deleteBeforeReplace", () => {
    const first = find(run, "kubernetes:core/v1:ConfigMap", "first");
    assert.equal(first.options.protect, true);
    assert.equal(first.options.retainOnDelete, true);
    assert.deepEqual(first.options.ignoreChanges, ["data"]);
    assert.equal(first.options.aliases.length, 1);
    const second = find(run, "kubernetes:core/v1:Secret", "second");
    assert.equal(second.options.protect, false);
    assert.equal(second.options.deleteBeforeReplace, true);
  });

  it("records input dependencies apart from explicit dependsOn", () => {
    const first = find(run, "kubernetes:core/v1:ConfigMap", "first");
    const second = find(run, "kubernetes:core/v1:Secret", "second");
    assert.deepEqual(second.dependencies, [first.urn], "second reads first's name");
    assert.deepEqual(second.options.dependsOn, []);
    const third = find(run, "kubernetes:core/v1:ConfigMap", "third");
    assert.deepEqual([...third.options.dependsOn].sort(), [first.urn, second.urn].sort());
    assert.deepEqual(first.dependencies, []);
  });

  it("hands structured config to the program as Pulumi does", () => {
    const first = find(run, "kubernetes:core/v1:ConfigMap", "first");
    assert.deepEqual((first.inputs["data"] as Record<string, string>)["replicas"], "2");
  });

  it("turns secure: config into a placeholder secret that stays secret in inputs and outputs", () => {
    const stringData = find(run, "kubernetes:core/v1:Secret", "second").inputs["stringData"];
    assert.ok(isSecret(stringData), "the Secret's stringData must arrive as a secret");
    assert.deepEqual(unwrapSecrets(stringData), { token: secretPlaceholder("probe:token") });
    assert.ok(isSecret(run.outputs["token"]));
    assert.equal(run.outputs["plain"], "first");
    assert.deepEqual(redactSecrets(run.outputs), { token: "[secret]", plain: "first", generatedName: "second-mock" });
  });

  it("fakes the outputs a provider computes: an auto-named object gets a name", () => {
    const second = find(run, "kubernetes:core/v1:Secret", "second");
    assert.equal((second.inputs["metadata"] as Record<string, unknown>)["name"], undefined);
    assert.equal(run.outputs["generatedName"], "second-mock");
  });

  it("fakes generated passwords as secrets, like @pulumi/random", async () => {
    const { state } = await mocks.newResource({
      type: "random:index/randomPassword:RandomPassword",
      name: "db",
      inputs: { length: 32 },
    });
    assert.equal(state["length"], 32);
    const result = state["result"] as pulumi.Output<string>;
    assert.ok(pulumi.Output.isInstance(result));
    assert.equal(await (result as unknown as { isSecret: Promise<boolean> }).isSecret, true);
    assert.equal(await new Promise((resolve) => result.apply(resolve)), fakeValue("password", "db"));
  });

  it("reports a program's failure instead of throwing", async () => {
    const missing = await runStack("probe", { root: PROBE, overrides: ["probe:settings=not json"] });
    assert.match(missing.error?.message ?? "", /settings/);
  });

  it("refuses an unknown stack, naming the stacks there are", () => {
    assert.throws(() => readStackConfig(PROBE, "nope"), /unknown stack "nope".*stacks here: probe/);
  });

  it("applies --config overrides at the top level and along paths", () => {
    const base = readStackConfig(PROBE, "probe");
    assert.deepEqual(base.secretKeys, ["probe:token"]);
    const changed = applyOverrides(base, ["greeting=hi", 'settings.limits["a.b"]=3', "other:key=x"]);
    assert.equal(changed.config["probe:greeting"], "hi");
    assert.deepEqual(JSON.parse(changed.config["probe:settings"]!), { replicas: 2, limits: { "a.b": 3 } });
    assert.equal(changed.config["other:key"], "x");
    assert.equal(base.config["probe:greeting"], "hello", "overrides never change the stack file's values");
    assert.throws(() => applyOverrides(base, ["greeting"]), /--config takes key=value/);
    assert.throws(() => applyOverrides(base, ["greeting.deeper=1"]), /probe:greeting is not an object/);
  });

  it("redacts and unwraps nested secrets", () => {
    const value = { a: [1, secret("s")], b: secret({ c: secret("t") }) };
    assert.deepEqual(redactSecrets(value), { a: [1, "[secret]"], b: "[secret]" });
    assert.deepEqual(unwrapSecrets(value), { a: [1, "s"], b: { c: "t" } });
  });
});
