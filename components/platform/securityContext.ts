/**
 * Security contexts that pass the restricted Pod Security Standard, for chart values that
 * take them. Charts merge their own user and group ids on top.
 */
export const RESTRICTED_POD = {
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};
