/**
 * The one table of what the workflows run from outside: every action by the full commit SHA of a
 * release tag, every container image by the digest of its tag. It lives in .github/pins/ in the
 * formats Dependabot bumps (a composite action's steps, a Dockerfile's FROM lines), and this
 * module reads it, so a Dependabot pull request changes the generated workflows too.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, isMap, isScalar, isSeq } from "yaml";
import { projectRootFrom } from "../projectRoot";

export interface ActionPin {
  /** owner/name */
  action: string;
  /** The release tag the SHA is the commit of, e.g. v7.0.1. */
  tag: string;
  sha: string;
}

export interface ImagePin {
  /** registry path, e.g. aquasec/trivy */
  image: string;
  tag: string;
  digest: string;
}

export interface Pins {
  /** By action (owner/name). */
  actions: Record<string, ActionPin>;
  /** By the stage name of its FROM line (e.g. trivy). */
  images: Record<string, ImagePin>;
}

export const PINS_DIR = path.join(projectRootFrom(__dirname), ".github", "pins");

/** Reads the table; throws naming the file and line of anything that is not a full pin with its tag. */
export function loadPins(dir: string = PINS_DIR): Pins {
  const actions: Record<string, ActionPin> = {};
  const actionFile = path.join(dir, "action.yml");
  const doc = parseDocument(fs.readFileSync(actionFile, "utf8"));
  const steps = doc.getIn(["runs", "steps"], true);
  if (!isSeq(steps)) throw new Error(`${actionFile}: runs.steps must list the pinned actions`);
  for (const step of steps.items) {
    const uses = isMap(step) ? step.get("uses", true) : undefined;
    const [, action, sha] = (isScalar(uses) && /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(String(uses.value))) || [];
    const tag = isScalar(uses) ? uses.comment?.trim() : undefined;
    if (!action || !sha || !tag || !/^v?\d+(\.\d+)*$/.test(tag))
      throw new Error(`${actionFile}: every step must be "uses: owner/name@<40-hex SHA> # <release tag>"`);
    if (actions[action]) throw new Error(`${actionFile}: ${action} is pinned twice`);
    actions[action] = { action, sha, tag };
  }

  const images: Record<string, ImagePin> = {};
  const dockerfile = path.join(dir, "Dockerfile");
  fs.readFileSync(dockerfile, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!/^FROM\s/i.test(line)) return;
      const [, image, tag, digest, name] =
        /^FROM\s+([\w./-]+):([\w.-]+)@(sha256:[0-9a-f]{64})\s+AS\s+([\w-]+)\s*$/i.exec(line) ?? [];
      if (!image || !tag || !digest || !name)
        throw new Error(`${dockerfile}:${i + 1}: must be "FROM <image>:<tag>@sha256:<digest> AS <name>"`);
      images[name] = { image, tag, digest };
    });
  return { actions, images };
}

export const PINS = loadPins();

/** `owner/name@sha` of a pinned action; throws for an action the table does not hold. */
export function pinnedAction(action: string, pins: Pins = PINS): string {
  const pin = pins.actions[action];
  if (!pin) throw new Error(`${action} is not in the table of pinned actions (.github/pins/action.yml)`);
  return `${pin.action}@${pin.sha}`;
}

/** `image:tag@digest` of a pinned image, by its name in the table. */
export function pinnedImage(name: string, pins: Pins = PINS): string {
  const pin = pins.images[name];
  if (!pin) throw new Error(`${name} is not in the table of pinned images (.github/pins/Dockerfile)`);
  return `${pin.image}:${pin.tag}@${pin.digest}`;
}

/** The table's tag of a pinned `owner/name@sha`, if it is one. */
export function tagOfPin(uses: string, pins: Pins = PINS): string | undefined {
  const [action, sha] = uses.split("@");
  const pin = pins.actions[action ?? ""];
  return pin && pin.sha === sha ? pin.tag : undefined;
}
