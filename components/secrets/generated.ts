import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { SecretKey, VaultPath } from "./catalog";
import { keepData } from "../protection";

/** Where the application reaches PostgreSQL, for the connection URL. */
export interface DatabaseEndpoint {
  host: string;
  port: number;
  database: string;
  owner: string;
}

export interface GeneratedCredentialsArgs {
  database: DatabaseEndpoint;
  /** protect + retainOnDelete: a replaced password would lock every client out. */
  protect: boolean;
  /** The registry's pull credential (a Docker config JSON), given, never generated. */
  registryAuth: string;
}

/** Strength of each generated value, set explicitly rather than left to provider defaults. */
const STRENGTH = {
  // Goes into a URL: letters and digits only, so it never needs escaping.
  database: { length: 32, special: false, minUpper: 4, minLower: 4, minNumeric: 4 },
  redis: { length: 32, special: false, minUpper: 4, minLower: 4, minNumeric: 4 },
  // HMAC key for HS256/HS512: 64 characters is over 380 bits.
  jwt: { length: 64, special: true, overrideSpecial: "-_", minUpper: 8, minLower: 8, minNumeric: 8, minSpecial: 2 },
  qdrant: { length: 48, special: false, minUpper: 6, minLower: 6, minNumeric: 6 },
  grafana: { length: 32, special: false, minUpper: 4, minLower: 4, minNumeric: 4 },
} satisfies Record<string, random.RandomPasswordArgs>;

/**
 * The platform's credentials, generated once and kept in Pulumi state as secrets. Every value
 * stays a secret Output from here to wherever it is written (Vault, or a dev Secret).
 */
export class GeneratedCredentials extends pulumi.ComponentResource {
  /** Each Vault path's properties, as one secret object. */
  readonly values: Record<VaultPath, pulumi.Output<Record<string, string>>>;

  constructor(name: string, args: GeneratedCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("doc-rag:secrets:GeneratedCredentials", name, {}, opts);
    const password = (id: keyof typeof STRENGTH) =>
      new random.RandomPassword(`${name}-${id}`, STRENGTH[id], {
        parent: this,
        ...keepData(args.protect),
      }).result;
    const db = args.database;
    const databasePassword = password("database");
    const secretObject = (value: Record<string, pulumi.Input<string>>) =>
      pulumi.secret(pulumi.output(value)) as pulumi.Output<Record<string, string>>;

    this.values = {
      "doc-rag/database": secretObject({
        url: pulumi.interpolate`postgresql://${db.owner}:${databasePassword}@${db.host}:${db.port}/${db.database}?sslmode=require`,
        username: db.owner,
        password: databasePassword,
      }),
      "doc-rag/redis": secretObject({ password: password("redis") }),
      "doc-rag/auth": secretObject({ "jwt-secret": password("jwt") }),
      "doc-rag/qdrant": secretObject({ "api-key": password("qdrant") }),
      "doc-rag/grafana": secretObject({ "admin-user": "admin", "admin-password": password("grafana") }),
      "doc-rag/registry": secretObject({ dockerconfigjson: args.registryAuth }),
    };
    this.registerOutputs({});
  }

  /** One property's value, still a secret. */
  valueOf(ref: SecretKey): pulumi.Output<string> {
    return pulumi.secret(
      this.values[ref.path].apply((v) => {
        const value = v[ref.property];
        if (value === undefined) throw new Error(`${ref.path} has no property ${ref.property}`);
        return value;
      }),
    );
  }
}
