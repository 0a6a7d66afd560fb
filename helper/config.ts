// The helper's one setting fixed at build time besides the ACL's and the policy's paths (acl/files.ts).
declare const TAP_BUILD_HELPER_DEADLINE_S: string | undefined;

/** The deadline (deadline.ts), fixed at build time (`TAP_HELPER_DEADLINE_S`, for tests); docs/design.md, "The helper's deadline". */
export const DEADLINE_MS = 1000 * (typeof TAP_BUILD_HELPER_DEADLINE_S === "string" ? Number(TAP_BUILD_HELPER_DEADLINE_S) : 60);
