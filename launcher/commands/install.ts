// `tap-launcher install`, `tap-launcher grant` and `tap-launcher uninstall`.
import { defineCommand } from "citty";
import { buildFolder } from "../layout.ts";
import { grantInstalledShim, installHelper, uninstallHelper, type InstallMode } from "../install.ts";
import { loggerFor, reportFailure, verbosityArgs } from "../cli.ts";

/** How a shim is made privileged: install's and grant's --mode. */
const modeArg = {
  type: "enum",
  options: ["setuid", "caps"] satisfies InstallMode[],
  default: "setuid",
  valueHint: "setuid|caps",
  description: "setuid: the shim is setuid root. caps: no root at all, the shim carries only cap_net_admin",
} as const;

export const install = defineCommand({
  meta: {
    name: "install",
    description:
      "Install the bridge helper for real use, as root: an exec shim is the only privileged file (--destdir: stage it, unprivileged)",
  },
  args: {
    prefix: {
      type: "string",
      default: "/usr/local",
      valueHint: "PREFIX",
      description: "Installs PREFIX/libexec/tap-bridge-helper (the path for QEMU's helper=) and PREFIX/bin/tap-launcher",
    },
    mode: modeArg,
    from: { type: "string", valueHint: "DIR", description: "Folder with the built executables (default: beside this launcher, or dist/)" },
    destdir: {
      type: "string",
      valueHint: "DIR",
      description: "Stage the files under DIR+PREFIX without privilege and grant nothing (a package's build); no root needed",
    },
    ...verbosityArgs,
  },
  run({ args }) {
    const log = loggerFor(args);
    return reportFailure(log, () => {
      const from = args.from ?? buildFolder();
      const layout = installHelper({ prefix: args.prefix, mode: args.mode, from, destdir: args.destdir }, log);
      if (args.destdir === undefined) log.info(`QEMU: -netdev bridge,id=n0,br=br0,helper=${layout.shim}`);
    });
  },
});

export const grant = defineCommand({
  meta: {
    name: "grant",
    description: "As root, make an installed exec shim privileged, as a package's postinst does: setuid root or cap_net_admin+p",
  },
  args: {
    path: { type: "positional", required: true, valueHint: "SHIM", description: "The installed shim, PREFIX/libexec/tap-bridge-helper" },
    mode: modeArg,
    ...verbosityArgs,
  },
  run({ args }) {
    const log = loggerFor(args);
    return reportFailure(log, () => {
      grantInstalledShim(args.path, args.mode);
      log.success(`${args.path}: ${args.mode === "setuid" ? "setuid root" : "cap_net_admin+p, no root"}`);
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
