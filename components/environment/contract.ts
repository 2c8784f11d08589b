/**
 * What crosses from one layer's stack to the next, typed on both sides: the exporting project
 * builds these values and the importing project validates what it reads against the same schema.
 */
import { z } from "zod";
import { NAMESPACE_ROLES } from "../config/names";

const namespaceNames = z.strictObject(
  Object.fromEntries(NAMESPACE_ROLES.map((role) => [role, z.string().min(1)])) as Record<
    (typeof NAMESPACE_ROLES)[number],
    z.ZodString
  >,
);

/** The cluster stack's `platform` output: what the data and app stacks build on. */
export const clusterContract = z.strictObject({
  environment: z.string(),
  namespaces: namespaceNames,
  secretsBackend: z.enum(["vault", "kubernetes"]),
  /** Where the services send traces (the cluster's collector). */
  tracingEndpoint: z.string().min(1),
});
export type ClusterContract = z.output<typeof clusterContract>;

const port = z.number().int().positive();
const endpoint = z.strictObject({ host: z.string().min(1), port });

/** The data stack's `endpoints` output: where each data service is reached (no credentials). */
export const dataContract = z.strictObject({
  postgres: endpoint.extend({ database: z.string().min(1) }),
  postgresReadOnly: endpoint,
  valkey: endpoint,
  qdrant: endpoint.extend({ grpcPort: port }),
});
export type DataContract = z.output<typeof dataContract>;

/** Each contract under the output name its stack exports it as. */
export const CONTRACTS = {
  cluster: { output: "platform", schema: clusterContract },
  data: { output: "endpoints", schema: dataContract },
} as const;
