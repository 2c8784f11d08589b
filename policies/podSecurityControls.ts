/**
 * The Pod Security Standards, one control per entry, as Pod Security Admission checks them at a
 * given Kubernetes version (v1.25 to v1.37; older is judged as v1.25), following its versioned
 * checks (kubernetes/pod-security-admission, policy/check_*.go). Each control returns one message per offending field, naming the
 * container (where it is one) and the field path; an empty list means the pod passes.
 * Reference: https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
import type { Handler, SecurityContext } from "./lib/kubernetes";
import { containersOf, type ContainerRef, type PodTemplate } from "./lib/podTemplate";

export type PodSecurityLevel = "baseline" | "restricted";

export interface PodSecurityControl {
  id: string;
  level: PodSecurityLevel;
  title: string;
  /** `minor`: the Kubernetes minor version whose standard applies (37 for v1.37). */
  check(pod: PodTemplate, minor: number): string[];
}

/** The newest version the controls know: what applies when nothing pins one. */
export const NEWEST_MINOR = 37;

/** "v1.36" → 36; undefined for anything else. "latest" is NEWEST_MINOR, as Pod Security Admission reads it. */
export function minorOf(version: string | undefined): number | undefined {
  if (version === "latest") return NEWEST_MINOR;
  const m = /^v1\.(\d+)$/.exec(version ?? "");
  return m ? Number(m[1]) : undefined;
}

/** A pod in a user namespace (hostUsers: false): from v1.35 some checks relax for it. */
const inUserNamespace = (pod: PodTemplate, minor: number) => minor >= 35 && pod.spec.hostUsers === false;

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** Namespaced sysctls isolated from other pods on the node: the only ones baseline allows. */
const SYSCTLS_SINCE: [number, string[]][] = [
  [
    0,
    [
      "kernel.shm_rmid_forced",
      "net.ipv4.ip_local_port_range",
      "net.ipv4.tcp_syncookies",
      "net.ipv4.ping_group_range",
      "net.ipv4.ip_unprivileged_port_start",
    ],
  ],
  [27, ["net.ipv4.ip_local_reserved_ports"]],
  [
    29,
    [
      "net.ipv4.tcp_keepalive_time",
      "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_keepalive_intvl",
      "net.ipv4.tcp_keepalive_probes",
    ],
  ],
  [32, ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]],
  [37, ["net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"]],
];

/** The sysctls baseline allows at a version: the list grew in v1.27, v1.29, v1.32 and v1.37. */
function safeSysctls(minor: number): Set<string> {
  return new Set(SYSCTLS_SINCE.filter(([since]) => minor >= since).flatMap(([, names]) => names));
}

const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t"]);
/** v1.31 added container_engine_t. */
const seLinuxTypes = (minor: number) =>
  minor >= 31 ? new Set([...SELINUX_TYPES, "container_engine_t"]) : SELINUX_TYPES;

/** Volume sources restricted allows (`image`: read-only OCI volumes, allowed since v1.33). */
const RESTRICTED_VOLUME_SOURCES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

const show = (value: unknown) => JSON.stringify(value);

/** Runs `check` on the pod-level security context and on every container's. */
function securityContexts(
  pod: PodTemplate,
  check: (context: SecurityContext, where: string, path: string) => string[],
): string[] {
  return [
    ...check(pod.spec.securityContext ?? {}, "pod", `${pod.specPath}.securityContext`),
    ...containersOf(pod).flatMap((ref) =>
      check(ref.container.securityContext ?? {}, ref.label, `${ref.path}.securityContext`),
    ),
  ];
}

function perContainer(pod: PodTemplate, check: (ref: ContainerRef, context: SecurityContext) => string[]): string[] {
  return containersOf(pod).flatMap((ref) => check(ref, ref.container.securityContext ?? {}));
}

const isWindows = (pod: PodTemplate) => pod.spec.os?.name === "windows";

const HANDLERS = [
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle.postStart",
  "lifecycle.preStop",
] as const;

function handlerOf(ref: ContainerRef, field: (typeof HANDLERS)[number]): Handler | undefined {
  const c = ref.container;
  switch (field) {
    case "lifecycle.postStart":
      return c.lifecycle?.postStart;
    case "lifecycle.preStop":
      return c.lifecycle?.preStop;
    default:
      return c[field];
  }
}

export const BASELINE_CONTROLS: PodSecurityControl[] = [
  {
    id: "hostProcess",
    level: "baseline",
    title: "HostProcess",
    check: (pod) =>
      securityContexts(pod, (sc, where, path) =>
        sc.windowsOptions?.hostProcess
          ? [`${where}: ${path}.windowsOptions.hostProcess is true; allowed: false or unset`]
          : [],
      ),
  },
  {
    id: "hostNamespaces",
    level: "baseline",
    title: "Host namespaces",
    check: (pod) =>
      (["hostNetwork", "hostPID", "hostIPC"] as const)
        .filter((field) => pod.spec[field] === true)
        .map((field) => `pod: ${pod.specPath}.${field} is true; allowed: false or unset`),
  },
  {
    id: "privileged",
    level: "baseline",
    title: "Privileged containers",
    check: (pod) =>
      perContainer(pod, (ref, sc) =>
        sc.privileged ? [`${ref.label}: ${ref.path}.securityContext.privileged is true; allowed: false or unset`] : [],
      ),
  },
  {
    id: "capabilities_baseline",
    level: "baseline",
    title: "Capabilities",
    check: (pod) =>
      perContainer(pod, (ref, sc) => {
        const extra = (sc.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
        return extra.length
          ? [
              `${ref.label}: ${ref.path}.securityContext.capabilities.add has ${extra.join(", ")}; allowed: ${[...BASELINE_CAPABILITIES].join(", ")}`,
            ]
          : [];
      }),
  },
  {
    id: "hostPathVolumes",
    level: "baseline",
    title: "HostPath volumes",
    check: (pod) =>
      (pod.spec.volumes ?? []).flatMap((volume, i) =>
        volume.hostPath !== undefined
          ? [`volume "${volume.name ?? i}": ${pod.specPath}.volumes[${i}].hostPath is set; host paths are not allowed`]
          : [],
      ),
  },
  {
    id: "hostPorts",
    level: "baseline",
    title: "Host ports",
    check: (pod) =>
      perContainer(pod, (ref) =>
        (ref.container.ports ?? []).flatMap((port, i) =>
          port.hostPort
            ? [`${ref.label}: ${ref.path}.ports[${i}].hostPort is ${port.hostPort}; allowed: 0 or unset`]
            : [],
        ),
      ),
  },
  {
    id: "hostProbesAndHostLifecycle",
    level: "baseline",
    title: "Host probes and lifecycle hooks",
    // A check since v1.34.
    check: (pod, minor) =>
      minor < 34
        ? []
        : perContainer(pod, (ref) =>
            HANDLERS.flatMap((field) => {
              const handler = handlerOf(ref, field);
              return (["httpGet", "tcpSocket"] as const)
                .filter((action) => handler?.[action]?.host)
                .map(
                  (action) =>
                    `${ref.label}: ${ref.path}.${field}.${action}.host is ${show(handler?.[action]?.host)}; allowed: unset (the pod itself)`,
                );
            }),
          ),
  },
  {
    id: "appArmorProfile",
    level: "baseline",
    title: "AppArmor",
    check: (pod) => [
      ...securityContexts(pod, (sc, where, path) =>
        sc.appArmorProfile?.type !== undefined && !["RuntimeDefault", "Localhost"].includes(sc.appArmorProfile.type)
          ? [
              `${where}: ${path}.appArmorProfile.type is ${show(sc.appArmorProfile.type)}; allowed: RuntimeDefault, Localhost or unset`,
            ]
          : [],
      ),
      ...Object.entries(pod.metadata.annotations ?? {})
        .filter(
          ([key, value]) =>
            key.startsWith(APPARMOR_ANNOTATION) &&
            !(value === "" || value === "runtime/default" || value.startsWith("localhost/")),
        )
        .map(
          ([key, value]) =>
            `container "${key.slice(APPARMOR_ANNOTATION.length)}": annotation ${key} is ${show(value)}; allowed: runtime/default, localhost/<profile>`,
        ),
    ],
  },
  {
    id: "seLinuxOptions",
    level: "baseline",
    title: "SELinux",
    check: (pod, minor) =>
      securityContexts(pod, (sc, where, path) => {
        const options = sc.seLinuxOptions;
        if (!options) return [];
        const problems: string[] = [];
        const allowed = seLinuxTypes(minor);
        if (options.type !== undefined && !allowed.has(options.type)) {
          problems.push(
            `${where}: ${path}.seLinuxOptions.type is ${show(options.type)}; allowed: ${[...allowed].filter(Boolean).join(", ")} or unset`,
          );
        }
        for (const field of ["user", "role"] as const) {
          if (options[field])
            problems.push(`${where}: ${path}.seLinuxOptions.${field} is ${show(options[field])}; allowed: unset`);
        }
        return problems;
      }),
  },
  {
    id: "procMount",
    level: "baseline",
    title: "/proc mount type",
    check: (pod, minor) =>
      // Unmasked is safe inside a user namespace (hostUsers: false), from v1.35.
      inUserNamespace(pod, minor)
        ? []
        : perContainer(pod, (ref, sc) =>
            sc.procMount !== undefined && sc.procMount !== "Default"
              ? [
                  `${ref.label}: ${ref.path}.securityContext.procMount is ${show(sc.procMount)}; allowed: Default or unset`,
                ]
              : [],
          ),
  },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    title: "Seccomp",
    check: (pod) =>
      securityContexts(pod, (sc, where, path) =>
        sc.seccompProfile?.type === "Unconfined"
          ? [`${where}: ${path}.seccompProfile.type is "Unconfined"; allowed: RuntimeDefault, Localhost or unset`]
          : [],
      ),
  },
  {
    id: "sysctls",
    level: "baseline",
    title: "Sysctls",
    check: (pod, minor) => {
      const allowed = safeSysctls(minor);
      return (pod.spec.securityContext?.sysctls ?? []).flatMap((sysctl, i) =>
        allowed.has(sysctl.name)
          ? []
          : [
              `pod: ${pod.specPath}.securityContext.sysctls[${i}].name is ${show(sysctl.name)}; allowed at v1.${minor}: ${[...allowed].join(", ")}`,
            ],
      );
    },
  },
];

export const RESTRICTED_CONTROLS: PodSecurityControl[] = [
  {
    id: "restrictedVolumes",
    level: "restricted",
    title: "Volume types",
    check: (pod) =>
      (pod.spec.volumes ?? []).flatMap((volume, i) => {
        const sources = Object.keys(volume).filter((key) => key !== "name" && !RESTRICTED_VOLUME_SOURCES.has(key));
        return sources.length
          ? [
              `volume "${volume.name ?? i}": ${pod.specPath}.volumes[${i}].${sources[0]} is not allowed; allowed: ${[...RESTRICTED_VOLUME_SOURCES].join(", ")}`,
            ]
          : [];
      }),
  },
  {
    id: "procMount_restricted",
    level: "restricted",
    title: "/proc mount type (restricted)",
    // A check since v1.35, when baseline began to allow Unmasked in a user namespace.
    check: (pod, minor) =>
      minor < 35
        ? []
        : perContainer(pod, (ref, sc) =>
            sc.procMount !== undefined && sc.procMount !== "Default"
              ? [
                  `${ref.label}: ${ref.path}.securityContext.procMount is ${show(sc.procMount)}; allowed: Default or unset, even with hostUsers: false`,
                ]
              : [],
          ),
  },
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    title: "Privilege escalation",
    check: (pod) =>
      isWindows(pod)
        ? []
        : perContainer(pod, (ref, sc) =>
            sc.allowPrivilegeEscalation === false
              ? []
              : [
                  `${ref.label}: ${ref.path}.securityContext.allowPrivilegeEscalation is ${show(sc.allowPrivilegeEscalation ?? "unset")}; required: false`,
                ],
          ),
  },
  {
    id: "runAsNonRoot",
    level: "restricted",
    title: "Running as non-root",
    check: (pod, minor) => {
      if (inUserNamespace(pod, minor)) return [];
      const podLevel = pod.spec.securityContext?.runAsNonRoot;
      const problems: string[] = [];
      if (podLevel === false)
        problems.push(`pod: ${pod.specPath}.securityContext.runAsNonRoot is false; required: true`);
      return problems.concat(
        perContainer(pod, (ref, sc) => {
          if (sc.runAsNonRoot === false)
            return [
              `${ref.label}: ${ref.path}.securityContext.runAsNonRoot is false; required: true or unset with the pod's true`,
            ];
          if (sc.runAsNonRoot === undefined && podLevel !== true) {
            return [
              `${ref.label}: ${ref.path}.securityContext.runAsNonRoot is unset and the pod does not set it; required: true`,
            ];
          }
          return [];
        }),
      );
    },
  },
  {
    id: "runAsUser",
    level: "restricted",
    title: "Running as non-root user",
    check: (pod, minor) =>
      inUserNamespace(pod, minor)
        ? []
        : securityContexts(pod, (sc, where, path) =>
            sc.runAsUser === 0 ? [`${where}: ${path}.runAsUser is 0; allowed: non-zero or unset`] : [],
          ),
  },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    title: "Seccomp (restricted)",
    check: (pod) => {
      if (isWindows(pod)) return [];
      const allowed = ["RuntimeDefault", "Localhost"];
      const podType = pod.spec.securityContext?.seccompProfile?.type;
      const problems: string[] = [];
      if (podType !== undefined && !allowed.includes(podType)) {
        problems.push(
          `pod: ${pod.specPath}.securityContext.seccompProfile.type is ${show(podType)}; allowed: RuntimeDefault, Localhost`,
        );
      }
      return problems.concat(
        perContainer(pod, (ref, sc) => {
          const type = sc.seccompProfile?.type;
          if (type === undefined) {
            return podType === undefined
              ? [
                  `${ref.label}: ${ref.path}.securityContext.seccompProfile.type is unset and the pod does not set it; required: RuntimeDefault or Localhost`,
                ]
              : [];
          }
          return allowed.includes(type)
            ? []
            : [
                `${ref.label}: ${ref.path}.securityContext.seccompProfile.type is ${show(type)}; allowed: RuntimeDefault, Localhost`,
              ];
        }),
      );
    },
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    title: "Capabilities (restricted)",
    check: (pod) =>
      isWindows(pod)
        ? []
        : perContainer(pod, (ref, sc) => {
            const problems: string[] = [];
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) {
              problems.push(
                `${ref.label}: ${ref.path}.securityContext.capabilities.drop does not include "ALL"; required: ["ALL"]`,
              );
            }
            const added = (sc.capabilities?.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
            if (added.length) {
              problems.push(
                `${ref.label}: ${ref.path}.securityContext.capabilities.add has ${added.join(", ")}; allowed: NET_BIND_SERVICE`,
              );
            }
            return problems;
          }),
  },
];

/** Every violation of the given controls, each prefixed with the control's title. */
export function podSecurityViolations(
  pod: PodTemplate,
  controls: PodSecurityControl[],
  minor: number = NEWEST_MINOR,
): string[] {
  const at = Math.max(25, Math.min(minor, NEWEST_MINOR));
  return controls.flatMap((control) => control.check(pod, at).map((message) => `[${control.title}] ${message}`));
}
