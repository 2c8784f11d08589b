/** The private registry's pull credential, as Kubernetes reads a kubernetes.io/dockerconfigjson Secret. */
import { z } from "zod";

/** A Docker config JSON with an `auths` object: the API server refuses a dockerconfigjson Secret without one. */
export const dockerConfigJson = z
  .string({ error: "must be a string (the Docker config JSON)" })
  .superRefine((text, ctx) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON (a Docker config.json)" });
      return;
    }
    const auths = (parsed as { auths?: unknown } | null)?.auths;
    if (typeof auths !== "object" || auths === null || Array.isArray(auths))
      ctx.addIssue({ code: "custom", message: 'must hold an "auths" object, registry → {auth}' });
  });

/** No credentials: what dev and review stacks pull with unless told otherwise. */
export const NO_REGISTRY_AUTH = '{"auths":{}}';
