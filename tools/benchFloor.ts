/**
 * The benchmark's floor: a process that only loads @pulumi/pulumi and @pulumi/kubernetes
 * and sets the mocks, which every evaluation of the program pays before its own work.
 */
import "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { mocks } from "../test/harness/mocks";

pulumi.runtime.setMocks(mocks, "doc-rag", "floor", false).then(() => process.exit(0));
