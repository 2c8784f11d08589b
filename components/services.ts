/** The six Doc-RAG workloads, as every component that deals with them names them. */
export const DOC_RAG_SERVICES = [
  "api",
  "chunker",
  "embedder",
  "retriever",
  "query-processor",
  "response-generator",
] as const;
export type DocRagService = (typeof DOC_RAG_SERVICES)[number];

/** Which services each service calls (HTTP on 8080); everything else is refused. */
export const CALLS: Record<DocRagService, DocRagService[]> = {
  api: ["query-processor", "chunker"],
  chunker: ["embedder"],
  embedder: [],
  retriever: ["embedder"],
  "query-processor": ["retriever", "response-generator"],
  "response-generator": [],
};

export type DataService = "postgres" | "valkey" | "qdrant";
/** Which data services each service uses. */
export const DATA_USE: Record<DocRagService, DataService[]> = {
  api: ["postgres", "valkey"],
  chunker: ["postgres"],
  embedder: ["qdrant"],
  retriever: ["qdrant", "valkey"],
  "query-processor": ["valkey"],
  "response-generator": ["valkey"],
};

/** Every service serves Prometheus metrics on this named port (the original document's 9090). */
export const METRICS_PORT = { name: "metrics", port: 9090 };

/** How a service is released: plain Deployments in dev, canaries elsewhere, the api blue-green in production. */
export function serviceStrategy(environment: string, svc: DocRagService): "deployment" | "canary" | "blueGreen" {
  if (environment === "dev") return "deployment";
  return svc === "api" && environment === "production" ? "blueGreen" : "canary";
}

/** Whether a service takes outside traffic through the Gateway's HTTPRoute: the api, but not on a shared cluster (review stacks). */
export const routedByGateway = (svc: DocRagService, sharedCluster: boolean): boolean => svc === "api" && !sharedCluster;
