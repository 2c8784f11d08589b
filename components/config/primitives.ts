/** Building blocks of the config schemas: strict objects with helpful errors, quantities, names. */
import { z } from "zod";
import { isQuantity, quantityValue } from "../quantity";

/** A strict object whose errors list the keys that are allowed. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed keys: ${allowed}`;
      }
      return issue.code === "invalid_type" ? `must be an object with keys among: ${allowed}` : undefined;
    },
  });
}

export const quantity = z
  .union([z.number().nonnegative("must not be negative"), z.string()], {
    error: "must be a Kubernetes quantity such as 500m, 2 or 4Gi",
  })
  .transform(String)
  .refine(isQuantity, "must be a Kubernetes quantity such as 500m, 2 or 4Gi");

export const count = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], {
    error: "must be a whole number of objects, such as 10",
  })
  .transform(String);

export const dnsLabel = z
  .string({ error: "must be a string" })
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "must be a DNS label: lower-case letters, digits and '-', at most 63 characters",
  );

/** True when both are quantities and the first is larger; malformed ones are reported elsewhere. */
export function exceeds(low: string | undefined, high: string | undefined): boolean {
  return !!low && !!high && isQuantity(low) && isQuantity(high) && quantityValue(low) > quantityValue(high);
}

export const cpuMemory = strictObject({ cpu: quantity, memory: quantity });

/** A container's requests and limits; a request above its limit is an error, as the API server would say. */
export function containerResources(defaults: { requests: CpuMemory; limits: CpuMemory }) {
  return strictObject({
    requests: cpuMemory.prefault(defaults.requests),
    limits: cpuMemory.prefault(defaults.limits),
  })
    .superRefine((r, ctx) => {
      for (const resource of ["cpu", "memory"] as const) {
        if (exceeds(r.requests[resource], r.limits[resource])) {
          ctx.addIssue({
            code: "custom",
            path: ["requests", resource],
            input: r.requests[resource],
            message: `must not exceed limits.${resource} (${r.limits[resource]})`,
          });
        }
      }
    })
    .prefault(defaults);
}

export interface CpuMemory {
  cpu: string;
  memory: string;
}

/** IPv4 or IPv6 networks in CIDR notation. */
export const cidrList = z
  .array(z.union([z.cidrv4(), z.cidrv6()], { error: "must be a network in CIDR notation, such as 10.0.0.0/16" }))
  .min(1, "must list at least one network");

export const portList = z
  .array(z.number().int().min(1).max(65535), { error: "must be a list of port numbers (1-65535)" })
  .min(1, "must list at least one port");
