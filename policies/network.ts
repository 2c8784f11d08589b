/**
 * Traffic from outside the cluster: only allowlisted namespaces (the gateway's) expose
 * Services on node ports or load balancers, and the Gateway serves HTTPS only.
 */
import type { PolicyResource } from "@pulumi/policy";
import { NAMESPACE_REASONS_SCHEMA, resourceRule, stackRule } from "./lib/policy";
import type { KubernetesProps } from "./lib/kubernetes";

interface ExposureConfig {
  allowedNamespaces: Record<string, string>;
}

export const serviceExposure = resourceRule<ExposureConfig>({
  name: "service-exposure",
  description:
    "Services of type LoadBalancer or NodePort exist only in allowlisted namespaces (the gateway's); everything else is ClusterIP behind the Gateway.",
  category: "security",
  types: ["kubernetes:core/v1:Service"],
  configSchema: { properties: { allowedNamespaces: NAMESPACE_REASONS_SCHEMA } },
  check: (props, config) => {
    const service = props as KubernetesProps & { spec?: { type?: string } };
    const type = service.spec?.type ?? "ClusterIP";
    const namespace = service.metadata?.namespace ?? "default";
    if (type !== "LoadBalancer" && type !== "NodePort") return [];
    return config.allowedNamespaces[namespace]
      ? []
      : [
          `Service ${namespace}/${service.metadata?.name}: type ${type} is only allowed in ${Object.keys(config.allowedNamespaces).join(", ") || "allowlisted namespaces (none configured)"}`,
        ];
  },
});

const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";

interface Listener {
  name?: string;
  protocol?: string;
  port?: number;
  tls?: { mode?: string; certificateRefs?: unknown[] };
}

interface RouteRule {
  filters?: { type?: string; requestRedirect?: { scheme?: string } }[];
  backendRefs?: unknown[];
}

interface HTTPRouteProps extends KubernetesProps {
  spec?: {
    parentRefs?: { name?: string; namespace?: string; sectionName?: string; port?: number }[];
    rules?: RouteRule[];
  };
}

const isHttpsRedirect = (rule: RouteRule) =>
  !rule.backendRefs?.length &&
  (rule.filters ?? []).some((f) => f.type === "RequestRedirect" && f.requestRedirect?.scheme === "https");

export const gatewayHttpsOnly = stackRule({
  name: "gateway-https-only",
  description:
    "Gateway API listeners serve HTTPS (with a certificate) or TLS; an HTTP listener may only carry HTTPRoutes whose every rule redirects to https.",
  category: "security",
  validateStack: (args, reportViolation) => {
    const listeners = new Map<string, Listener[]>();
    for (const gateway of args.resources.filter((r) => r.type === GATEWAY)) {
      const props = gateway.props as KubernetesProps & { spec?: { listeners?: Listener[] } };
      const key = `${props.metadata?.namespace ?? "default"}/${props.metadata?.name}`;
      listeners.set(key, props.spec?.listeners ?? []);
      for (const listener of props.spec?.listeners ?? []) {
        if (listener.protocol === "HTTPS" && !listener.tls?.certificateRefs?.length) {
          reportViolation(`Gateway ${key}: HTTPS listener "${listener.name}" has no tls.certificateRefs`, gateway.urn);
        } else if (!["HTTPS", "HTTP", "TLS"].includes(listener.protocol ?? "")) {
          reportViolation(
            `Gateway ${key}: listener "${listener.name}" uses protocol ${listener.protocol}; allowed: HTTPS, TLS, or HTTP for redirects`,
            gateway.urn,
          );
        }
      }
    }
    for (const route of args.resources.filter((r: PolicyResource) => r.type === HTTP_ROUTE)) {
      const props = route.props as HTTPRouteProps;
      const namespace = props.metadata?.namespace ?? "default";
      const attachedHttp = (props.spec?.parentRefs ?? []).some((ref) =>
        (listeners.get(`${ref.namespace ?? namespace}/${ref.name}`) ?? []).some(
          (l) =>
            l.protocol === "HTTP" &&
            (!ref.sectionName || ref.sectionName === l.name) &&
            (!ref.port || ref.port === l.port),
        ),
      );
      const serving = (props.spec?.rules ?? []).filter((rule) => !isHttpsRedirect(rule));
      if (attachedHttp && serving.length) {
        reportViolation(
          `HTTPRoute ${namespace}/${props.metadata?.name} attaches to an HTTP listener with ${serving.length} rule(s) that serve traffic; on HTTP a route may only redirect to https (RequestRedirect scheme: https)`,
          route.urn,
        );
      }
    }
  },
});
