// The helper's fixed settings (the ACL's and the policy's paths, fixed at build time, are in acl/files.ts).

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";

/**
 * How long the helper waits for room in the caller's socket before it gives up on sending the fd.
 * QEMU and libvirt read at once; a caller that never reads must not keep an up TAP and a helper
 * process alive forever.
 */
export const SEND_TIMEOUT_MS = 5000;

declare const TAP_BUILD_HELPER_DEADLINE_S: string | undefined;

/**
 * How long the helper may take, from reading a policy file on, before it gives up, says which step
 * it was waiting for and exits 1 (helper/deadline.ts). Longer than every bounded wait inside it (the send's 5 s, the audit
 * line's 1 s, the port dumps' 30 s: 200 requests at once on a bridge of 300 ports took over 20 s on
 * a loaded 2-core machine, and a lab starting its VMs together must be served, not timed out); a
 * name service that never answers must not hang QEMU and libvirt forever. Fixed at build time
 * (`TAP_HELPER_DEADLINE_S`, for tests); nothing at run time changes it.
 */
export const DEADLINE_MS = 1000 * (typeof TAP_BUILD_HELPER_DEADLINE_S === "string" ? Number(TAP_BUILD_HELPER_DEADLINE_S) : 60);
