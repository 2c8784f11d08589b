// Serves the pack to the Pulumi CLI (`pulumi preview --policy-pack policies`). Constructing a
// PolicyPack starts a gRPC server, so nothing but the CLI imports this file.
import { PolicyPack } from "@pulumi/policy";
import { PACK_DESCRIPTION, PACK_NAME, policies } from "./pack";

new PolicyPack(PACK_NAME, { policies, description: PACK_DESCRIPTION });
