/** What tests import: the offline engine (lib/) and the helpers only tests need. */
export * from "../../lib";
export * from "./kubernetes";
export * from "./console";
