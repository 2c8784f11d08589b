import * as assert from "node:assert/strict";
import { runResourcePolicy, type PolicyTarget } from "../harness";
import { podSecurityBaseline, podSecurityRestricted } from "../../policies/workloads";
import { BASELINE_CONTROLS, RESTRICTED_CONTROLS } from "../../policies/podSecurityControls";
import { container, pod, podSpec, workloads } from "./fixtures";

type Spec = ReturnType<typeof podSpec> & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The compliant pod, changed by `mutate`. */
function podWith(mutate: (spec: Spec, target: PolicyTarget) => void): PolicyTarget {
  const target = pod(structuredClone(podSpec()));
  mutate(target.props.spec as Spec, target);
  return target;
}

const messages = async (policy: typeof podSecurityBaseline, target: PolicyTarget, config = {}) =>
  (await runResourcePolicy(policy, target, config)).violations.map((v) => v.message);

interface Case {
  control: string;
  mutate: (spec: Spec, target: PolicyTarget) => void;
  /** Substrings the message must hold: the control, the container (or pod/volume) and the field. */
  expect: string[];
}

const BASELINE_CASES: Case[] = [
  {
    control: "hostProcess",
    mutate: (s) => (s.securityContext.windowsOptions = { hostProcess: true }),
    expect: ["[HostProcess]", "pod:", "spec.securityContext.windowsOptions.hostProcess"],
  },
  {
    control: "hostNamespaces",
    mutate: (s) => (s.hostNetwork = true),
    expect: ["[Host namespaces]", "pod:", "spec.hostNetwork"],
  },
  { control: "hostNamespaces", mutate: (s) => (s.hostPID = true), expect: ["[Host namespaces]", "spec.hostPID"] },
  { control: "hostNamespaces", mutate: (s) => (s.hostIPC = true), expect: ["[Host namespaces]", "spec.hostIPC"] },
  {
    control: "privileged",
    mutate: (s) => (s.containers[0].securityContext.privileged = true),
    expect: ["[Privileged containers]", 'container "app"', "spec.containers[0].securityContext.privileged"],
  },
  {
    control: "capabilities_baseline",
    mutate: (s) => (s.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"]),
    expect: ["[Capabilities]", 'container "app"', "capabilities.add has SYS_ADMIN"],
  },
  {
    control: "hostPathVolumes",
    mutate: (s) => s.volumes.push({ name: "host", hostPath: { path: "/" } }),
    expect: ["[HostPath volumes]", 'volume "host"', "spec.volumes[1].hostPath"],
  },
  {
    control: "hostPorts",
    mutate: (s) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]),
    expect: ["[Host ports]", 'container "app"', "spec.containers[0].ports[0].hostPort is 80"],
  },
  {
    control: "hostProbesAndHostLifecycle",
    mutate: (s) => (s.containers[0].livenessProbe.httpGet.host = "10.0.0.1"),
    expect: ["[Host probes and lifecycle hooks]", 'container "app"', "spec.containers[0].livenessProbe.httpGet.host"],
  },
  {
    control: "hostProbesAndHostLifecycle",
    mutate: (s) => (s.containers[0].lifecycle = { preStop: { tcpSocket: { host: "evil", port: 1 } } }),
    expect: ["[Host probes and lifecycle hooks]", "spec.containers[0].lifecycle.preStop.tcpSocket.host"],
  },
  {
    control: "appArmorProfile",
    mutate: (s) => (s.containers[0].securityContext.appArmorProfile = { type: "Unconfined" }),
    expect: ["[AppArmor]", 'container "app"', "spec.containers[0].securityContext.appArmorProfile.type"],
  },
  {
    control: "appArmorProfile",
    mutate: (_s, t) =>
      ((t.props.metadata as Record<string, unknown>).annotations = {
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
      }),
    expect: ["[AppArmor]", 'container "app"', "annotation container.apparmor.security.beta.kubernetes.io/app"],
  },
  {
    control: "seLinuxOptions",
    mutate: (s) => (s.containers[0].securityContext.seLinuxOptions = { type: "spc_t" }),
    expect: ["[SELinux]", 'container "app"', "seLinuxOptions.type"],
  },
  {
    control: "seLinuxOptions",
    mutate: (s) => (s.securityContext.seLinuxOptions = { user: "root" }),
    expect: ["[SELinux]", "pod:", "spec.securityContext.seLinuxOptions.user"],
  },
  {
    control: "procMount",
    mutate: (s) => (s.initContainers[0].securityContext.procMount = "Unmasked"),
    expect: ["[/proc mount type]", 'init container "migrate"', "spec.initContainers[0].securityContext.procMount"],
  },
  {
    control: "seccompProfile_baseline",
    mutate: (s) => (s.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
    expect: ["[Seccomp]", 'container "app"', 'seccompProfile.type is "Unconfined"'],
  },
  {
    control: "sysctls",
    mutate: (s) => (s.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]),
    expect: ["[Sysctls]", "pod:", 'spec.securityContext.sysctls[0].name is "kernel.msgmax"'],
  },
];

const RESTRICTED_CASES: Case[] = [
  {
    control: "restrictedVolumes",
    mutate: (s) => s.volumes.push({ name: "share", nfs: { server: "x", path: "/" } }),
    expect: ["[Volume types]", 'volume "share"', "spec.volumes[1].nfs"],
  },
  {
    control: "procMount_restricted",
    mutate: (s) => ((s.hostUsers = false), (s.containers[0].securityContext.procMount = "Unmasked")),
    expect: ["[/proc mount type (restricted)]", 'container "app"'],
  },
  {
    control: "allowPrivilegeEscalation",
    mutate: (s) => (s.ephemeralContainers = [{ name: "debug", image: "x" }]),
    expect: [
      "[Privilege escalation]",
      'ephemeral container "debug"',
      "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation",
    ],
  },
  {
    control: "runAsNonRoot",
    mutate: (s) => (s.securityContext.runAsNonRoot = false),
    expect: ["[Running as non-root]", "pod:", "spec.securityContext.runAsNonRoot is false"],
  },
  {
    control: "runAsNonRoot",
    mutate: (s) => delete s.securityContext.runAsNonRoot,
    expect: ["[Running as non-root]", 'container "app"', "runAsNonRoot is unset"],
  },
  {
    control: "runAsUser",
    mutate: (s) => (s.containers[0].securityContext.runAsUser = 0),
    expect: ["[Running as non-root user]", 'container "app"', "spec.containers[0].securityContext.runAsUser is 0"],
  },
  {
    control: "seccompProfile_restricted",
    mutate: (s) => delete s.securityContext.seccompProfile,
    expect: ["[Seccomp (restricted)]", 'container "app"', "seccompProfile.type is unset"],
  },
  {
    control: "capabilities_restricted",
    mutate: (s) => (s.initContainers[0].securityContext.capabilities = {}),
    expect: ["[Capabilities (restricted)]", 'init container "migrate"', 'drop does not include "ALL"'],
  },
  {
    control: "capabilities_restricted",
    mutate: (s) => (s.containers[0].securityContext.capabilities.add = ["CHOWN"]),
    expect: ["[Capabilities (restricted)]", 'container "app"', "capabilities.add has CHOWN"],
  },
];

function runCases(policy: typeof podSecurityBaseline, cases: Case[], controls: { id: string }[]) {
  it("has a violating case for every control", () => {
    assert.deepEqual([...new Set(cases.map((c) => c.control))].sort(), controls.map((c) => c.id).sort());
  });
  for (const c of cases) {
    it(`${c.control}: ${c.expect.at(-1)}`, async () => {
      const found = await messages(policy, podWith(c.mutate));
      assert.ok(found.length > 0, "no violation reported");
      const match = found.find((m) => c.expect.every((part) => m.includes(part)));
      assert.ok(match, `no message holds ${JSON.stringify(c.expect)}:\n${found.join("\n")}`);
    });
  }
}

describe("policy: pod-security-baseline", () => {
  it("allows the compliant pod", async () => assert.deepEqual(await messages(podSecurityBaseline, pod()), []));
  runCases(podSecurityBaseline, BASELINE_CASES, BASELINE_CONTROLS);

  it("allows Unmasked /proc inside a user namespace (hostUsers: false)", async () => {
    const target = podWith((s) => ((s.hostUsers = false), (s.containers[0].securityContext.procMount = "Unmasked")));
    assert.deepEqual(await messages(podSecurityBaseline, target), []);
  });

  it("allows the safe sysctls and runtime/default or localhost AppArmor annotations", async () => {
    const target = podWith((s, t) => {
      s.securityContext.sysctls = [{ name: "net.ipv4.tcp_keepalive_time", value: "60" }];
      (t.props.metadata as Record<string, unknown>).annotations = {
        "container.apparmor.security.beta.kubernetes.io/app": "localhost/doc-rag",
      };
    });
    assert.deepEqual(await messages(podSecurityBaseline, target), []);
  });

  it("skips namespaces the config exempts, with a reason", async () => {
    const target = podWith((s) => (s.hostNetwork = true));
    assert.deepEqual(
      await messages(podSecurityBaseline, target, { exemptNamespaces: { "doc-rag": "node agents" } }),
      [],
    );
  });

  it("reads the pod template of every kind that carries one, at its own path", async () => {
    const spec = structuredClone(podSpec());
    (spec.containers as Record<string, unknown>[])[0]!.securityContext = { privileged: true };
    const paths: Record<string, string> = {
      Pod: "spec.containers[0]",
      Deployment: "spec.template.spec.containers[0]",
      StatefulSet: "spec.template.spec.containers[0]",
      DaemonSet: "spec.template.spec.containers[0]",
      ReplicaSet: "spec.template.spec.containers[0]",
      Job: "spec.template.spec.containers[0]",
      CronJob: "spec.jobTemplate.spec.template.spec.containers[0]",
      Rollout: "spec.template.spec.containers[0]",
    };
    for (const [kind, target] of Object.entries(workloads(spec))) {
      const found = await messages(podSecurityBaseline, target);
      assert.ok(
        found.some((m) => m.includes(`${paths[kind]}.securityContext.privileged`)),
        `${kind}: ${found.join("; ")}`,
      );
    }
  });

  it("is not applicable to objects that run no pod", async () => {
    const outcome = await runResourcePolicy(podSecurityBaseline, { type: "kubernetes:core/v1:ConfigMap", props: {} });
    assert.ok(outcome.notApplicable);
  });
});

describe("policy: pod-security-restricted", () => {
  it("allows the compliant pod", async () => assert.deepEqual(await messages(podSecurityRestricted, pod()), []));
  runCases(podSecurityRestricted, RESTRICTED_CASES, RESTRICTED_CONTROLS);

  it("exempts Windows pods from the Linux-only controls, as Pod Security Admission does", async () => {
    const windows = pod({
      os: { name: "windows" },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: "w", image: "x" }],
    });
    assert.deepEqual(await messages(podSecurityRestricted, windows), []);
  });

  it("accepts runAsNonRoot set on every container instead of the pod", async () => {
    const target = pod({
      containers: [
        container("app", {
          securityContext: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        }),
      ],
    });
    assert.deepEqual(await messages(podSecurityRestricted, target), []);
  });
});
