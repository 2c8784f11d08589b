/**
 * The offline engine behind the tools and the tests: the program run under Pulumi's mocks and
 * recorded (run, mocks, resources), stack files read as the CLI reads them (stackConfig), the
 * policy pack run as `pulumi preview --policy-pack` runs it (packRunner), chart data and CRDs
 * (chartData), and manifests read as kubectl reads them (kubernetesYaml).
 */
export * from "./resources";
export * from "./kubernetesObjects";
export * from "./run";
export * from "./stackConfig";
export { fakeValue, mockDigest } from "./mocks";
export * from "./packRunner";
