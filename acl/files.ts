// Where the ACL is read from: fixed when the helper is built (scripts/build.ts); nothing at run time changes it.

declare const TAP_BUILD_ACL_FILE: string | undefined;

/** The ACL file, `TAP_ACL_FILE` at build time, else qemu-bridge-helper's default. */
export const ACL_FILE: string = typeof TAP_BUILD_ACL_FILE === "string" ? TAP_BUILD_ACL_FILE : "/etc/qemu/bridge.conf";
