/** Where the project's files are, whether this code runs from its sources (tsx) or from dist/. */
import * as path from "node:path";
import { projectRootFrom } from "../components/projectRoot";

/** The folder above this module: the repository root, or the build's folder in dist/. */
export const CODE_ROOT = path.resolve(__dirname, "..");

/** The repository root: the nearest folder at or above CODE_ROOT that holds Pulumi.yaml. */
export const PROJECT_ROOT = projectRootFrom(CODE_ROOT);
