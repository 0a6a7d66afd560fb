// Settings fixed when the helper is built (scripts/build.ts); nothing at run time can change them.

declare const TAP_BUILD_ACL_FILE: string | undefined;

/** The ACL file, `TAP_ACL_FILE` at build time, else qemu-bridge-helper's default. */
export const ACL_FILE: string =
  typeof TAP_BUILD_ACL_FILE === "string" ? TAP_BUILD_ACL_FILE : "/etc/qemu/bridge.conf";

/** The kernel template for new TAP names, as qemu-bridge-helper uses. */
export const TAP_NAME_TEMPLATE = "tap%d";
