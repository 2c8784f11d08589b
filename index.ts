// The single-stack program: every layer in one stack (review stacks, and stacks made before the
// split by lifecycle). Environments run as the four projects in projects/; see the README.
import { singleStackProgram } from "./components/environment/programs";

export = singleStackProgram();
