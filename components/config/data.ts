/**
 * The data services: PostgreSQL (CloudNativePG), the Valkey cache and Qdrant. Defaults fit a
 * laptop; the staging and production stack files carry the sizes the original document asks for.
 */
import { z } from "zod";
import { containerResources, cronSchedule, dnsLabel, httpsUrl, positiveQuantity, strictObject } from "./primitives";

/** Default: the stack's storageClass. */
const storageClass = dnsLabel.optional();

/** A PostgreSQL identifier we create (database, role): lower case, so it never needs quoting. */
const identifier = z
  .string({ error: "must be a string" })
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case PostgreSQL identifier (letters, digits, _)");

/** CloudNativePG's six-field cron (seconds first). */
const cnpgSchedule = cronSchedule("0 0 2 * * *", true);

const backupsSchema = strictObject({
  enabled: z.boolean({ error: "must be true or false" }).default(false),
  destinationPath: z
    .string({ error: "must be a string" })
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/, "must be an s3://bucket/path URL")
    .optional(),
  endpointURL: httpsUrl("must be an https:// URL").optional(),
  region: z.string().min(1, "must not be empty").optional(),
  credentialsSecret: dnsLabel.optional(),
  schedule: cnpgSchedule.default("0 0 2 * * *"),
  retention: z
    .string({ error: "must be a string" })
    .regex(/^[1-9]\d*[dwm]$/, "must be a retention such as 30d, 4w or 3m")
    .default("30d"),
}).superRefine((b, ctx) => {
  if (!b.enabled) return;
  if (!b.destinationPath) {
    ctx.addIssue({
      code: "custom",
      path: ["destinationPath"],
      input: undefined,
      message: "must be set when backups are enabled (s3://bucket/path)",
    });
  }
  if (!b.endpointURL && !b.region) {
    ctx.addIssue({
      code: "custom",
      path: ["region"],
      input: undefined,
      message: "must be set when backups are enabled and endpointURL is not (the S3 endpoint is derived from it)",
    });
  }
});

export const postgresSchema = strictObject({
  postgresVersion: z
    .string({ error: 'must be a quoted major version such as "17"' })
    .regex(/^1[4-8]$/, "must be a supported PostgreSQL major version, 14 to 18")
    .default("17"),
  instances: z.number().int().min(1).max(9, "must be between 1 and 9").default(1),
  storageSize: positiveQuantity.default("5Gi"),
  storageClass,
  database: identifier.default("docrag"),
  owner: identifier.default("docrag"),
  resources: containerResources({
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "1Gi" },
  }),
  backups: backupsSchema.prefault({}),
});

export const valkeySchema = strictObject({
  replicas: z.number().int().min(0).max(5, "must be between 0 and 5").default(0),
  storageSize: positiveQuantity.default("2Gi"),
  storageClass,
  resources: containerResources({
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "500m", memory: "512Mi" },
  }),
});

export const qdrantSchema = strictObject({
  replicas: z.number().int().min(1).max(9, "must be between 1 and 9").default(1),
  storageSize: positiveQuantity.default("5Gi"),
  storageClass,
  resources: containerResources({
    requests: { cpu: "250m", memory: "512Mi" },
    limits: { cpu: "1", memory: "2Gi" },
  }),
});

export type PostgresConfig = z.output<typeof postgresSchema>;
export type ValkeyConfig = z.output<typeof valkeySchema>;
export type QdrantConfig = z.output<typeof qdrantSchema>;
