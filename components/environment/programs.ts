/**
 * The programs: every layer in one stack (the repository root's project: review stacks and the
 * stacks made before the split), or one layer per project (projects/<layer>/), its inputs read
 * from the stacks of the layers below.
 */
import * as pulumi from "@pulumi/pulumi";
import { keepConfigSecretsSecret, loadConfig, type StackConfig } from "../config";
import { NAMESPACE_ROLES } from "../config/names";
import { kubernetesProvider } from "../platform/provider";
import { deployerIdentities } from "./deployers";
import {
  appLayer,
  clusterContractOf,
  clusterFromReference,
  clusterLayer,
  dataEndpoints,
  dataLayer,
  deliveredImages,
  governanceLayer,
  namespaceNames,
  postgresOperator,
  reviewTtl,
} from "./layers";
import { layersOf, PROJECTS, type Layer } from "./projects";
import { readLayer, ReferenceError } from "./references";
import { isSharedComponent } from "./shared";

type Outputs = Record<string, unknown>;

/** Every layer in one stack, as the platform ran before the split; review stacks still do. */
export function singleStackProgram(): Outputs {
  const config = loadConfig();
  // A value set as a secret stays secret in every resource and output, whichever key holds it.
  const secretWhereSet = keepConfigSecretsSecret();
  const provider = kubernetesProvider(config);
  const cluster = clusterLayer(config, provider);
  const data = dataLayer(config, cluster.view, provider);
  const delivery = appLayer(config, cluster.view, data.view, provider);
  const governance = governanceLayer(config);
  const ttl = reviewTtl(config);
  return {
    ...clusterOutputs(config, cluster, secretWhereSet),
    endpoints: secretWhereSet(dataEndpoints(data.services)),
    ...appOutputs(delivery, secretWhereSet),
    /** The status checks the rulesets require (from the pipeline model); none without GitHub governance. */
    requiredChecks: governance?.requiredChecks ?? [],
    /** When a review stack is destroyed (its TTL); none outside review stacks. */
    ...(ttl ? { reviewExpiresAt: ttl.expiresAt } : {}),
  };
}

type Conceal = ReturnType<typeof keepConfigSecretsSecret>;

function clusterOutputs(config: StackConfig, cluster: ReturnType<typeof clusterLayer>, conceal: Conceal): Outputs {
  return {
    environment: config.environment,
    cluster: conceal(config.clusterName),
    namespaces: conceal(namespaceNames(cluster.platform)),
    secretsBackend: conceal(cluster.secrets.backend),
    ...(cluster.observability ? { tracingEndpoint: conceal(cluster.observability.tracingEndpoint) } : {}),
  };
}

function appOutputs(delivery: ReturnType<typeof appLayer>, conceal: Conceal): Outputs {
  return { apiHost: conceal(delivery.apiHost), images: conceal(deliveredImages(delivery)) };
}

/** Refuses a stack this layer's project does not hold, before anything is registered. */
function checkLayer(layer: Layer, config: StackConfig): void {
  if (layersOf(config).includes(layer)) return;
  const why = config.review
    ? "a review stack runs every layer in one stack of the single-stack project (the repository root)"
    : `${config.environment} has no ${layer} layer (GitHub governance is for staging and production with doc-rag:github set)`;
  throw new Error(`stack ${pulumi.getStack()} is not a stack of ${PROJECTS[layer]}: ${why}`);
}

/** A contract's namespaces must be the ones this stack's config names: else the stacks were brought up apart. */
function checkNamespaces(config: StackConfig, namespaces: Record<string, string>): void {
  const differ = NAMESPACE_ROLES.filter((role) => namespaces[role] !== config.namespaces[role].name);
  if (differ.length) {
    const detail = differ.map((role) => `${role}: ${namespaces[role]} there, ${config.namespaces[role].name} here`);
    throw new ReferenceError(
      `the cluster stack's namespaces differ from doc-rag:namespaces (${detail.join("; ")}): bring up projects/cluster with this config first`,
    );
  }
}

/**
 * The components two projects each build a part of (SHARED_COMPONENTS) stay behind when a
 * single stack is moved into the projects; `pulumi state move` then re-parents their children to
 * the stack and rewrites their URNs without the component's type. An alias to that place lets each
 * project's update adopt them (their descendants' aliases follow from it) instead of creating them
 * anew. On a stack that never moved, the alias matches nothing.
 */
function adoptMovedChildren(): void {
  pulumi.runtime.registerStackTransformation((args) => {
    const parent = args.opts.parent;
    if (!isSharedComponent(parent)) return undefined;
    return {
      props: args.props,
      opts: { ...args.opts, aliases: [...(args.opts.aliases ?? []), { parent: pulumi.rootStackResource }] },
    };
  });
}

/** One layer's program, for projects/<layer>/index.ts. */
export function layerProgram(layer: Layer): () => Promise<Outputs> {
  return async () => {
    const config = loadConfig();
    checkLayer(layer, config);
    const secretWhereSet = keepConfigSecretsSecret();
    adoptMovedChildren();
    switch (layer) {
      case "cluster": {
        const provider = kubernetesProvider(config);
        const cluster = clusterLayer(config, provider);
        // The controllers the data and app layers' objects need: CloudNativePG's, Argo Rollouts', the edge.
        postgresOperator(config, cluster.view, { providers: [provider] });
        const edge = appLayer(config, cluster.view, { ready: [] }, provider, "controllers");
        return {
          ...clusterOutputs(config, cluster, secretWhereSet),
          apiHost: secretWhereSet(edge.apiHost),
          /** What the data and app stacks read (components/environment/contract.ts). */
          platform: clusterContractOf(config, cluster),
          /** The identities the data and app projects deploy with: their own namespaces only. */
          deployers: deployerIdentities(config, cluster.platform, provider),
        };
      }
      case "data": {
        const cluster = await readLayer("cluster");
        checkNamespaces(config, cluster.value.namespaces);
        const provider = kubernetesProvider(config);
        const data = dataLayer(config, clusterFromReference(cluster.value, cluster.reference), provider, {
          part: "database",
          operatorReady: cluster.reference,
        });
        return { endpoints: secretWhereSet(dataEndpoints(data.services)) };
      }
      case "app": {
        const cluster = await readLayer("cluster");
        checkNamespaces(config, cluster.value.namespaces);
        const data = await readLayer("data");
        const provider = kubernetesProvider(config);
        const delivery = appLayer(
          config,
          clusterFromReference(cluster.value, cluster.reference),
          { ready: [data.reference] },
          provider,
          "services",
        );
        return { images: secretWhereSet(deliveredImages(delivery)) };
      }
      case "governance": {
        // A release deploys the app project's stack.
        const governance = governanceLayer(config, PROJECTS.app);
        return { requiredChecks: governance?.requiredChecks ?? [] };
      }
    }
  };
}
