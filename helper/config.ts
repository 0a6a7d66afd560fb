// The helper's fixed settings (the ACL's and the policy's paths, fixed at build time, are in acl/files.ts).

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";

/**
 * How long the helper waits for room in the caller's socket before it gives up on sending the fd.
 * QEMU and libvirt read at once; a caller that never reads must not keep an up TAP and a helper
 * process alive forever.
 */
export const SEND_TIMEOUT_MS = 5000;
