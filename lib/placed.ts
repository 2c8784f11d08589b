/** Kubernetes objects as the gates read them: the program's own and each Helm release's, by namespace. */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** An object and where it comes from: the program itself, or a Helm release. */
export interface Placed {
  object: KubeObject;
  namespace: string;
  /** The Helm release that renders it; undefined for the program's own objects. */
  release?: string;
}

/** A Helm test hook: it runs only under `helm test`, never as part of the release. */
export const isTestHook = (o: KubeObject) =>
  (o.metadata.annotations?.["helm.sh/hook"] ?? "").split(",").some((h) => h.trim().startsWith("test"));
