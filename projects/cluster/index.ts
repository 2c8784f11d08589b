// The cluster layer's program; its parts are in components/environment/.
import { layerProgram } from "../../components/environment/programs";

export = layerProgram("cluster");
