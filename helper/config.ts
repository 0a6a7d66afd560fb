// Settings fixed when the helper is built (scripts/build.ts); nothing at run time can change them.

declare const TAP_BUILD_ACL_FILE: string | undefined;
declare const TAP_BUILD_POLICY_FILE: string | undefined;

/** The ACL file, `TAP_ACL_FILE` at build time, else qemu-bridge-helper's default. */
export const ACL_FILE: string =
  typeof TAP_BUILD_ACL_FILE === "string" ? TAP_BUILD_ACL_FILE : "/etc/qemu/bridge.conf";

/** The shared-hosts policy (quotas, isolation, queue limits), `TAP_POLICY_FILE` at build time. QEMU's helper never reads it. */
export const POLICY_FILE: string =
  typeof TAP_BUILD_POLICY_FILE === "string" ? TAP_BUILD_POLICY_FILE : "/etc/qemu/bridge-policy.conf";

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";

/**
 * How long the helper waits for room in the caller's socket before it gives up on sending the fd.
 * QEMU and libvirt read at once; a caller that never reads must not keep an up TAP and a helper
 * process alive forever.
 */
export const SEND_TIMEOUT_MS = 5000;
