import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../lib/paths";
import {
  find,
  isSecret,
  unwrapSecrets,
  kubernetesObjects,
  ofType,
  runStack,
  schemaProblems,
  validateKubernetesObjects,
  type StackRun,
} from "./harness";

const STACKS = ["dev", "staging", "production"] as const;

describe("whole stack", () => {
  for (const stack of STACKS) {
    describe(stack, () => {
      let run: StackRun;
      before(async () => {
        run = await runStack(stack);
        assert.equal(run.error, undefined, run.error?.message);
      });

      it("registers Kubernetes objects that all pass the official schemas", async () => {
        assert.ok(kubernetesObjects(run).length >= 30);
        assert.deepEqual(await validateKubernetesObjects(run), []);
      });

      it("hands every Kubernetes resource the stack's explicit provider", () => {
        const providers = ofType(run, "pulumi:providers:kubernetes");
        assert.deepEqual(
          providers.map((p) => p.name),
          ["kubernetes"],
        );
        const ref = `${find(run, "pulumi:providers:kubernetes", "kubernetes").urn}::kubernetes-id`;
        for (const { resource } of kubernetesObjects(run)) {
          assert.equal(resource.provider, ref, `${resource.type} ${resource.name}`);
        }
      });

      it("keeps every object inside a component: only the provider and components are top level", () => {
        const topLevel = run.resources.filter((r) => !r.parent).map((r) => r.type);
        assert.deepEqual([...new Set(topLevel)].sort(), [
          "doc-rag:data:PostgresDatabase",
          "doc-rag:data:QdrantStore",
          "doc-rag:data:ValkeyCache",
          "doc-rag:delivery:Delivery",
          ...(stack === "dev" ? [] : ["doc-rag:governance:GitHubGovernance"]),
          "doc-rag:observability:Observability",
          "doc-rag:platform:ClusterAddons",
          "doc-rag:platform:SecureNamespace",
          "doc-rag:secrets:PlatformSecrets",
          "pulumi:providers:kubernetes",
        ]);
      });

      it("exports the environment, the cluster and the namespace names by role", () => {
        assert.equal(run.outputs["environment"], stack);
        const names = run.outputs["namespaces"] as Record<string, string>;
        for (const [role, name] of Object.entries(names)) {
          assert.equal(
            (find(run, "kubernetes:core/v1:Namespace", `${role}-namespace`).inputs["metadata"] as { name: string })
              .name,
            name,
          );
        }
      });

      it("produces identical resources when run twice", async () => {
        const again = await runStack(stack, { fresh: true });
        assert.deepEqual(again.resources, run.resources);
        assert.deepEqual(again.outputs, run.outputs);
      });
    });
  }

  it("targets the cluster each stack names", async () => {
    const contexts = await Promise.all(
      STACKS.map(async (s) => find(await runStack(s), "pulumi:providers:kubernetes", "kubernetes").inputs["context"]),
    );
    assert.deepEqual(contexts, ["kind-doc-rag", "shared-staging", "doc-rag-prod"]);
  });

  it("keeps a kubeconfig secret in the provider's inputs, since it may hold credentials", async () => {
    const run = await runStack("production", { secretOverrides: ["doc-rag:kubeconfig=apiVersion: v1\nkind: Config"] });
    const kubeconfig = find(run, "pulumi:providers:kubernetes", "kubernetes").inputs["kubeconfig"];
    assert.ok(isSecret(kubeconfig), "kubeconfig must be a secret input");
    assert.equal(unwrapSecrets(kubeconfig), "apiVersion: v1\nkind: Config");
  });

  it("schema validation catches what the API server would refuse", async () => {
    assert.match(
      (
        await schemaProblems({
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "x", labels: { n: 1 as never } },
        })
      )[0] ?? "",
      /Namespace -\/x: .*labels\/n must be string/,
    );
    assert.match(
      (
        await schemaProblems({
          apiVersion: "v1",
          kind: "ResourceQuota",
          metadata: { name: "q" },
          spec: { hard: { pods: {} } },
        })
      )[0] ?? "",
      /ResourceQuota -\/q: .*hard\/pods/,
    );
    assert.match(
      (await schemaProblems({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }))[0] ?? "",
      /no schema for apiVersion example\.com\/v1/,
    );
    assert.match(
      (await schemaProblems({ apiVersion: "v1", kind: "Widget", metadata: { name: "w" } }))[0] ?? "",
      /apiVersion v1 has no kind Widget/,
    );
  });
});

describe("docs/components.md shows each stack's application quota as its stack file sets it", () => {
  it("requests and limits of CPU and memory, per stack", () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "components.md"), "utf8");
    const row = (/^\| application quota \(requests \/ limits\) +\|(.*)$/m.exec(doc)?.[1] ?? "").split("|");
    ["dev", "staging", "production"].forEach((stack, i) => {
      const config = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: { "doc-rag:namespaces": { application: { quota: Record<string, string> } } };
      };
      const q = config.config["doc-rag:namespaces"].application.quota;
      const shown = `${q["requests.cpu"]} CPU, ${q["requests.memory"]} / ${q["limits.cpu"]} CPU, ${q["limits.memory"]}`;
      assert.ok((row[i] ?? "").trim().startsWith(shown), `${stack}: ${shown} in ${row[i]}`);
    });
  });
});
