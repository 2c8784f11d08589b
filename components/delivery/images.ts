import * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "../config";

/**
 * The image reference a service is deployed by. A digest (from the release, or set per service)
 * is used as is. Without one, only dev runs the tag: a laptop's kind cluster runs images loaded
 * with `kind load`, which no registry serves. Every other environment must have a digest: the
 * config refuses it otherwise, so nothing asks a registry at preview.
 */
export function imageReference(image: ServiceConfig["image"]): pulumi.Output<string> {
  return pulumi.output(image.digest ? `${image.repository}@${image.digest}` : `${image.repository}:${image.tag}`);
}
