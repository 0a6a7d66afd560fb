// The helper's fixed settings (the ACL's and the policy's paths, fixed at build time, are in acl/files.ts).

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";

/** The send's wait for room in the socket: QEMU and libvirt read at once; a caller that never does must not keep a TAP or helper alive. */
export const SEND_TIMEOUT_MS = 5000;

declare const TAP_BUILD_HELPER_DEADLINE_S: string | undefined;

/**
 * The overall deadline (deadline.ts), from reading a policy file on: a name service that never answers must not hang
 * QEMU and libvirt. Longer than every bounded wait inside it (the send's 5 s, the audit line's 1 s, the port dumps'
 * 30 s: 200 requests at once on a bridge of 300 ports took over 20 s on a loaded 2-core machine, and VMs started
 * together must be served). Fixed at build time (`TAP_HELPER_DEADLINE_S`, for tests); nothing at run time changes it.
 */
export const DEADLINE_MS = 1000 * (typeof TAP_BUILD_HELPER_DEADLINE_S === "string" ? Number(TAP_BUILD_HELPER_DEADLINE_S) : 60);
