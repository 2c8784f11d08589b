// Composition root: load the stack config, build the components, export the outputs.
import { loadConfig } from "./components/config";
import { namespaceNames, platformNamespaces } from "./components/platform/namespaces";
import { kubernetesProvider } from "./components/platform/provider";

const config = loadConfig();
const provider = kubernetesProvider(config);
const platform = platformNamespaces(config, provider);

export const environment = config.environment;
export const cluster = config.clusterName;
export const namespaces = namespaceNames(platform);
