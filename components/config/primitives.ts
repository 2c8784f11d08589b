/** Building blocks of the config schemas: strict objects with helpful errors, quantities, names. */
import { z } from "zod";
import { isQuantity, quantityValue } from "../quantity";

/** A strict object whose errors list the keys that are allowed. */
export function strictObject<T extends z.ZodRawShape>(shape: T) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        return `unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}; allowed keys: ${allowed}`;
      }
      return issue.code === "invalid_type" ? `must be an object with keys among: ${allowed}` : undefined;
    },
  });
}

export const quantity = z
  .union([z.number().nonnegative("must not be negative"), z.string()], {
    error: "must be a Kubernetes quantity such as 500m, 2 or 4Gi",
  })
  .transform(String)
  .refine(isQuantity, "must be a Kubernetes quantity such as 500m, 2 or 4Gi");

/** Bytes: a quantity in millibytes (`512m`, a thousandth of a byte each) is a typo for Mi, never a size. */
export const bytes = quantity.refine(
  (q) => !/^[0-9.+-]+m$/.test(q),
  "is in millibytes (the suffix m means thousandths of a byte); write Mi for mebibytes, such as 512Mi",
);

export const count = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], {
    error: "must be a whole number of objects, such as 10",
  })
  .transform(String);

export const dnsLabel = z
  .string({ error: "must be a string" })
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "must be a DNS label: lower-case letters, digits and '-', at most 63 characters",
  );

/** True when both are quantities and the first is larger; malformed ones are reported elsewhere. */
export function exceeds(low: string | undefined, high: string | undefined): boolean {
  return !!low && !!high && isQuantity(low) && isQuantity(high) && quantityValue(low) > quantityValue(high);
}

export const cpuMemory = strictObject({ cpu: quantity, memory: bytes });

/** CPU and memory where each one left out keeps its default: `--path ...limits.memory=8Gi` alone is valid. */
const cpuMemoryOr = (d: CpuMemory) =>
  strictObject({ cpu: quantity.default(d.cpu), memory: bytes.default(d.memory) }).prefault(d);

/** A container's requests and limits; a request above its limit is an error, as the API server would say. */
export function containerResources(defaults: { requests: CpuMemory; limits: CpuMemory }) {
  return strictObject({
    requests: cpuMemoryOr(defaults.requests),
    limits: cpuMemoryOr(defaults.limits),
  })
    .superRefine((r, ctx) => {
      for (const resource of ["cpu", "memory"] as const) {
        if (exceeds(r.requests[resource], r.limits[resource])) {
          ctx.addIssue({
            code: "custom",
            path: ["requests", resource],
            input: r.requests[resource],
            message: `must not exceed limits.${resource} (${r.limits[resource]})`,
          });
        }
      }
    })
    .prefault(defaults);
}

export interface CpuMemory {
  cpu: string;
  memory: string;
}

/** IPv4 or IPv6 networks in CIDR notation. */
export const cidrList = z
  .array(z.union([z.cidrv4(), z.cidrv6()], { error: "must be a network in CIDR notation, such as 10.0.0.0/16" }))
  .min(1, "must list at least one network");

export const portList = z
  .array(
    z
      .number({ error: "must be a port number (1-65535)" })
      .int("must be a port number (1-65535)")
      .min(1, "must be a port number (1-65535)")
      .max(65535, "must be a port number (1-65535)"),
    { error: "must be a list of port numbers (1-65535)" },
  )
  .min(1, "must list at least one port");

/** Query parameters that carry a credential in a URL (`?token=`, `?access_token=`, a signed URL's signature). */
const CREDENTIAL_PARAMETERS =
  /^(token|access_token|id_token|auth|api_?key|apikey|key|secret|password|passwd|sig|signature|x-amz-signature|x-goog-signature)$/i;

/**
 * An https:// URL, written with `//`, without credentials: user:password@ or a token in its query
 * would sit in plain text in the state and in every copy. A key declared secret (a webhook) may
 * carry a token: `secret` lets it.
 */
export function httpsUrl(error: string, options: { secret?: boolean } = {}) {
  return z
    .url({
      protocol: /^https$/,
      // Say why a URL is no URL where the reason is plain: a port out of range.
      error: (issue) => {
        const port = /^[a-z]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(String(issue.input))?.[1];
        return port && Number(port) > 65535 ? `${error}: port ${port} is not a port (1-65535)` : error;
      },
    })
    .refine(
      (u) => !/^https:/i.test(u) || /^https:\/\//i.test(u),
      "must be written https://host…: without the two slashes it is not read as a host",
    )
    .refine((u) => {
      // What z.url already refused (a port out of range) is its error alone, never a throw here.
      const url = URL.canParse(u) ? new URL(u) : undefined;
      return options.secret || (!url?.username && !url?.password);
    }, "must not carry credentials (user:password@): they would be kept in plain text in the state and in every resource that holds the URL; set them as a secret")
    .refine((u) => {
      const url = URL.canParse(u) ? new URL(u) : undefined;
      return options.secret || ![...(url?.searchParams.keys() ?? [])].some((k) => CREDENTIAL_PARAMETERS.test(k));
    }, "must not carry a credential in its query (?token=, ?access_token=, ?key=, a signature): it would be kept in plain text in the state and in every resource that holds the URL");
}

/** A quantity above zero, where Kubernetes requires one (a volume's size). */
export const positiveQuantity = bytes.refine((q) => !isQuantity(q) || quantityValue(q) > 0, "must be above zero");

/** A DNS-1123 subdomain (a host name): lower-case labels of at most 63 characters, 253 in all. */
export const dnsSubdomain = z
  .string({ error: "must be a string" })
  .max(253, "must be at most 253 characters (a DNS name)")
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/,
    "must be a DNS name: dot-separated lower-case labels of letters, digits and '-', each at most 63 characters",
  );

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

/** Whether a label key is valid as the API server checks it: an optional DNS-subdomain prefix, then a name. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  return LABEL_NAME.test(name) && (prefix === undefined || dnsSubdomain.safeParse(prefix).success);
}

/** Labels as the API server accepts them: qualified-name keys, values of at most 63 name characters. */
export const labelMap = z.record(
  z
    .string()
    .refine(isLabelKey, "must be a label key: [prefix/]name, the name at most 63 letters, digits, '-', '_' or '.'"),
  z
    .string({ error: "must be a string" })
    .regex(
      /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/,
      "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric",
    ),
);

const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];
const CRON_DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/**
 * Why a cron schedule is invalid, as the parser behind the CronJob controller and CloudNativePG
 * (robfig/cron v3) reads it: `*`, `?`, values, names, ranges a-b, steps /n and lists, or a
 * descriptor such as @daily or @every 1h; with `seconds`, a seconds field comes first. Undefined when valid.
 */
export function cronProblem(schedule: string, seconds = false): string | undefined {
  const zone = /^(?:CRON_)?TZ=(\S+)\s+/.exec(schedule.trim())?.[1];
  if (zone !== undefined && !knownTimeZone(zone)) return `time zone ${zone} is not in the IANA time zone database`;
  const spec = schedule.trim().replace(/^(CRON_)?TZ=\S+\s+/, "");
  if (spec.startsWith("@")) {
    if (CRON_DESCRIPTORS.includes(spec)) return undefined;
    return /^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(spec) ? undefined : `unknown descriptor ${spec}`;
  }
  const fields = seconds ? [{ name: "second", min: 0, max: 59 }, ...CRON_FIELDS] : CRON_FIELDS;
  const parts = spec.split(/\s+/);
  if (parts.length !== fields.length) return `has ${parts.length} fields, not ${fields.length}`;
  const sets: Set<number>[] = [];
  for (const [i, field] of fields.entries()) {
    const part = parts[i] ?? "";
    const set = new Set<number>();
    const value = (v: string) => {
      const named = field.names?.indexOf(v.toUpperCase()) ?? -1;
      const n = named >= 0 ? named + (field.min === 1 ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
      return n >= field.min && n <= field.max ? n : undefined;
    };
    for (const item of part.split(",")) {
      const [range = "", step, extra] = item.split("/");
      if (extra !== undefined || (step !== undefined && !/^[1-9]\d*$/.test(step)))
        return `${field.name} field ${JSON.stringify(part)} has a bad step`;
      const every = range === "*" || (range === "?" && (field.name === "day of month" || field.name === "day of week"));
      const [low = "", high, more] = every ? [String(field.min), String(field.max)] : range.split("-");
      const a = value(low);
      // robfig/cron: `a/n` alone runs from a to the field's maximum.
      const b = high === undefined ? (step !== undefined ? field.max : a) : value(high);
      if (more !== undefined || a === undefined || b === undefined || b < a)
        return `${field.name} field ${JSON.stringify(part)} is not within ${field.min}-${field.max}`;
      for (let n = a; n <= b; n += Number(step ?? 1)) set.add(n);
    }
    sets.push(set);
  }
  // A day of month that no month in the schedule has (30 February, 31 April) never comes, unless a
  // day of week is also restricted (then either one fires it).
  const [dom, month] = sets.slice(-3) as [Set<number>, Set<number>];
  const dayOfWeekRestricted = !["*", "?"].includes(parts.at(-1) ?? "*");
  const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (!dayOfWeekRestricted && ![...month].some((m) => [...dom].some((d) => d <= (DAYS[m - 1] ?? 31))))
    return "never fires: no month in it has that day";
  return undefined;
}

/** True for a time zone name the IANA database (as Node's ICU holds it) knows. */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A cron schedule as the CronJob controller (five fields) or CloudNativePG (six, seconds first) parses it. */
export function cronSchedule(example: string, seconds = false) {
  return z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const problem = cronProblem(s, seconds);
    if (problem)
      ctx.addIssue({
        code: "custom",
        input: s,
        message: `must be a ${seconds ? "six-field cron expression, seconds first" : "five-field cron expression"} such as "${example}": ${problem}`,
      });
  });
}
