import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The CustomResourceDefinitions a review stack's objects need, as the cluster's owner installs them. */
export const SHARED_CRDS = {
  monitoring: "servicemonitors.monitoring.coreos.com",
  postgres: "clusters.postgresql.cnpg.io",
} as const;

export interface SharedClusterArgs {
  /** Where the owner's CloudNativePG operator runs. */
  postgresOperatorNamespace: string;
}

/**
 * A cluster another stack owns, as a review stack sees it: nothing is installed, but the CRDs
 * its objects need are read first, so `pulumi up` stops with the missing definition's name
 * instead of failing object by object, and every custom resource waits for the read.
 */
export class SharedCluster extends pulumi.ComponentResource {
  readonly monitoringCrds: pulumi.Resource;
  /** The owner's CloudNativePG operator, as the review stack's PostgreSQL uses it. */
  readonly postgresOperator: { namespace: string; crds: pulumi.Resource };

  constructor(name: string, args: SharedClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:platform:SharedCluster", name, {}, opts);
    const read = (crd: string) =>
      k8s.apiextensions.v1.CustomResourceDefinition.get(`${name}-${crd}`, crd, { parent: this });
    this.monitoringCrds = read(SHARED_CRDS.monitoring);
    this.postgresOperator = { namespace: args.postgresOperatorNamespace, crds: read(SHARED_CRDS.postgres) };
    this.registerOutputs({});
  }
}
