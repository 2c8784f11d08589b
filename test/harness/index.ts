export * from "./resources";
export * from "./run";
export * from "./stackConfig";
export { fakeValue, mockDigest } from "./mocks";
export * from "./kubernetes";
export * from "./policies";
export * from "./console";
