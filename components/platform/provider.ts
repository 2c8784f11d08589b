import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";

/**
 * The one Kubernetes provider every Kubernetes resource is given, so nothing lands in
 * whatever cluster the ambient kubeconfig happens to point at.
 */
export function kubernetesProvider(config: StackConfig): k8s.Provider {
  return new k8s.Provider("kubernetes", {
    ...(config.kubeContext ? { context: config.kubeContext } : {}),
    // May hold credentials (contents rather than a path): keep it out of plaintext state.
    ...(config.kubeconfig ? { kubeconfig: pulumi.secret(config.kubeconfig) } : {}),
    enableServerSideApply: true,
  });
}
