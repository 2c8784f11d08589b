/**
 * Where secrets live (Vault, outside dev) and which addresses outside the cluster pods may
 * reach: the default-deny egress of every namespace is opened only towards these.
 */
import { z } from "zod";
import { cidrList, portList, strictObject, httpsUrl } from "./primitives";

const seconds = (max: number) =>
  z
    .number({ error: "must be a number of seconds" })
    .int()
    .min(60, "must be at least 60")
    .max(max, `must be at most ${max}`);

export const vaultSchema = strictObject({
  address: httpsUrl("must be the https:// URL of the Vault server"),
  namespace: z.string().min(1, "must not be empty").optional(),
  kubernetesHost: httpsUrl("must be the https:// URL at which Vault reaches this cluster's API server"),
  kubernetesCaCert: z.string().startsWith("-----BEGIN CERTIFICATE-----", "must be a PEM certificate").optional(),
  tokenTtlSeconds: seconds(3600).default(600),
  tokenMaxTtlSeconds: seconds(3600).default(3600),
}).superRefine((v, ctx) => {
  if (v.tokenTtlSeconds > v.tokenMaxTtlSeconds) {
    ctx.addIssue({
      code: "custom",
      path: ["tokenTtlSeconds"],
      input: v.tokenTtlSeconds,
      message: `must not exceed tokenMaxTtlSeconds (${v.tokenMaxTtlSeconds})`,
    });
  }
});

function endpoint(ports: number[]) {
  return strictObject({
    cidrs: cidrList.default(["0.0.0.0/0"]),
    ports: portList.default(ports),
  }).prefault({});
}

export const egressSchema = strictObject({
  kubernetesApi: endpoint([443, 6443]),
  vault: endpoint([443, 8200]),
  objectStore: endpoint([443]),
  nodes: endpoint([9100, 10250]),
  alerting: endpoint([443]),
  logs: endpoint([443, 9200]),
  acme: endpoint([443]),
  // The Gateway's public address (its load balancer): cert-manager's HTTP-01 self-check fetches
  // the challenge from it on port 80 before it asks Let's Encrypt to.
  gatewayAddress: endpoint([80]),
  // Where Falco's falcoctl downloads its rules and plugins at start (and follows their updates
  // where a stack lets it): the falcosecurity index (falcosecurity.github.io) and the OCI registry (ghcr.io).
  artifacts: endpoint([443]),
  // Where the Argo Rollouts controller downloads its Gateway API traffic-router plugin at start:
  // GitHub's release downloads (github.com, then objects.githubusercontent.com).
  rolloutsPlugin: endpoint([443]),
});

export type VaultConfig = z.output<typeof vaultSchema>;
export type EgressConfig = z.output<typeof egressSchema>;
export type Endpoint = EgressConfig["kubernetesApi"];
