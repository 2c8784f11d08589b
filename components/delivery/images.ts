import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "../config";

/**
 * The image reference a service is deployed by: always a digest. A configured digest is used
 * as is; a tag is resolved to the digest the registry serves for it now, so a later push to
 * the tag changes nothing until the next `pulumi up` shows it in the preview.
 */
export function imageReference(image: ServiceConfig["image"], parent: pulumi.Resource): pulumi.Output<string> {
  if (image.digest) return pulumi.output(`${image.repository}@${image.digest}`);
  const resolved = docker.getRegistryImageOutput({ name: `${image.repository}:${image.tag}` }, { parent });
  return pulumi.interpolate`${image.repository}@${resolved.sha256Digest}`;
}
