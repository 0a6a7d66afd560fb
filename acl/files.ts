// Where the ACL and the shared-hosts policy are read from: fixed when the programs are built (scripts/build.ts); nothing at run time changes them.
declare const TAP_BUILD_ACL_FILE: string | undefined;
declare const TAP_BUILD_POLICY_FILE: string | undefined;

/** The ACL file, `TAP_ACL_FILE` at build time, else qemu-bridge-helper's default. */
export const ACL_FILE: string = typeof TAP_BUILD_ACL_FILE === "string" ? TAP_BUILD_ACL_FILE : "/etc/qemu/bridge.conf";
/** The shared-hosts policy (quotas, isolation, queue limits), `TAP_POLICY_FILE` at build time. QEMU's helper never reads it. */
export const POLICY_FILE: string = typeof TAP_BUILD_POLICY_FILE === "string" ? TAP_BUILD_POLICY_FILE : "/etc/qemu/bridge-policy.conf";
