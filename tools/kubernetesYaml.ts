/**
 * How Kubernetes reads a manifest's YAML, for every tool that reads manifests (policy:check, render):
 * kubectl and the API server's clients parse with go-yaml v2, i.e. YAML 1.1 — `yes`, `on`, `Y`,
 * `off`… are booleans, `0x1f` and `017` are numbers, `<<` merges a mapping. A tool that read YAML 1.2
 * would see the string "yes" where the cluster sees `true`, and wave through a privileged pod.
 * go-yaml v2 has no base-60 numbers (`1:00`) and sigs.k8s.io/yaml keeps timestamps as strings, so
 * those two YAML 1.1 types are left out.
 */
import type { DocumentOptions, ParseOptions, SchemaOptions, Tags } from "yaml";

const NOT_IN_GO_YAML = (tag: { tag: string; format?: string }) =>
  tag.format === "TIME" || tag.tag === "tag:yaml.org,2002:timestamp";

export const KUBERNETES_YAML: DocumentOptions & ParseOptions & SchemaOptions = {
  version: "1.1",
  merge: true,
  customTags: (tags: Tags) => tags.filter((t) => !(typeof t === "object" && NOT_IN_GO_YAML(t))),
};
