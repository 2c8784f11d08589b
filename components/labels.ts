import { PROJECT, type Environment } from "./config/names";

/** The recommended `app.kubernetes.io/*` labels plus the environment, for every object we own. */
export function standardLabels(component: string, environment: Environment): Record<string, string> {
  return {
    "app.kubernetes.io/name": PROJECT,
    "app.kubernetes.io/part-of": PROJECT,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "pulumi",
    "doc-rag.io/environment": environment,
  };
}
