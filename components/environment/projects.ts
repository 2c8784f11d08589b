/**
 * The platform's Pulumi projects, one per lifecycle: what changes together, with the same
 * credentials, is one project. Staging, production and dev run as these four projects in order;
 * review stacks (and stacks made before the split) run every layer in one stack of `doc-rag`.
 */
export const LAYERS = ["cluster", "data", "app", "governance"] as const;
export type Layer = (typeof LAYERS)[number];

/** Each layer's project name (its folder is projects/<layer>/). */
export const PROJECTS: Readonly<Record<Layer, string>> = {
  cluster: "doc-rag-cluster",
  data: "doc-rag-data",
  app: "doc-rag-app",
  governance: "doc-rag-governance",
};

/**
 * The lower layers' stacks each layer's program reads (readLayer in programs.ts): its deployments
 * are granted read on exactly these (components/governance/access/ checks it against the programs).
 */
export const LAYER_READS: Readonly<Record<Layer, readonly Layer[]>> = {
  cluster: [],
  data: ["cluster"],
  app: ["cluster", "data"],
  governance: [],
};

/** The project that runs every layer in one stack: review stacks, and the migration's source. */
export const SINGLE_STACK_PROJECT = "doc-rag";

/** What a layer's project decides from: the environment, and whether GitHub or review is set. */
export interface LayerSelector {
  environment: string;
  review?: unknown;
  github?: unknown;
}

/**
 * The layers an environment has stacks for, in the order they are brought up: a review stack
 * has none of its own (it is one stack of the single-stack project), and without GitHub
 * governance (dev) there is no governance stack.
 */
export function layersOf(config: LayerSelector): Layer[] {
  if (config.review) return [];
  return LAYERS.filter((layer) => layer !== "governance" || (config.github && config.environment !== "dev"));
}
