// `tap-launcher install` and `tap-launcher uninstall`.
import { defineCommand } from "citty";
import { buildFolder } from "../layout.ts";
import { installHelper, uninstallHelper, type InstallMode } from "../install.ts";
import { loggerFor, reportFailure, verbosityArgs } from "../cli.ts";

export const install = defineCommand({
  meta: {
    name: "install",
    description: "Install the bridge helper for real use, as root: an exec shim is the only privileged file",
  },
  args: {
    prefix: {
      type: "string",
      default: "/usr/local",
      valueHint: "PREFIX",
      description: "Installs PREFIX/libexec/tap-bridge-helper (the path for QEMU's helper=) and PREFIX/bin/tap-launcher",
    },
    mode: {
      type: "enum",
      options: ["setuid", "caps"] satisfies InstallMode[],
      default: "setuid",
      valueHint: "setuid|caps",
      description: "setuid: the shim is setuid root. caps: no root at all, the shim carries only cap_net_admin",
    },
    from: { type: "string", valueHint: "DIR", description: "Folder with the built executables (default: beside this launcher, or dist/)" },
    ...verbosityArgs,
  },
  run({ args }) {
    const log = loggerFor(args);
    return reportFailure(log, () => {
      const layout = installHelper({ prefix: args.prefix, mode: args.mode, from: args.from ?? buildFolder() }, log);
      log.info(`QEMU: -netdev bridge,id=n0,br=br0,helper=${layout.shim}`);
    });
  },
});

export const uninstall = defineCommand({
  meta: { name: "uninstall", description: "Remove what install put under PREFIX, as root" },
  args: {
    prefix: { type: "string", default: "/usr/local", valueHint: "PREFIX", description: "The prefix given to install" },
    ...verbosityArgs,
  },
  run({ args }) {
    const log = loggerFor(args);
    return reportFailure(log, () => uninstallHelper(args.prefix, log));
  },
});
