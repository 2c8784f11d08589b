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

/** The business-metrics exporter of the original document (§5.4). */
export const BUSINESS_METRICS_EXPORTER = "business-metrics-exporter";

/** Every service serves Prometheus metrics on this named port (the original document's 9090). */
export const METRICS_PORT = { name: "metrics", port: 9090 };
/** The exporter serves them on 8080. */
export const EXPORTER_METRICS_PORT = { name: "metrics", port: 8080 };
