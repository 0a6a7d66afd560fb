// The helper's fixed settings (the ACL file's path, fixed at build time, is acl/files.ts's ACL_FILE).

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";

/**
 * How long the helper waits for room in the caller's socket before it gives up on sending the fd.
 * QEMU and libvirt read at once; a caller that never reads must not keep an up TAP and a helper
 * process alive forever.
 */
export const SEND_TIMEOUT_MS = 5000;
