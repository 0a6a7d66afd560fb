// Installing the helper into a temporary prefix for tests, with an ACL file the test controls.
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installLayout, type InstallLayout } from "../../launcher/layout.ts";
import { buildWithAcl } from "./build.ts";
import { run, runOk } from "./proc.ts";
import { asUser, sharedFolder, type TestUser, withOpenTunDevice } from "./users.ts";

export interface TestInstall extends InstallLayout {
  aclFile: string;
  /** The policy file the programs were built with, beside the ACL; absent until setPolicy. */
  policyFile: string;
  dist: string;
  /** Replaces the ACL's content (mode 0644). */
  setAcl(content: string): void;
  /** Writes the policy file (mode 0644), or removes it with null. */
  setPolicy(content: string | null): void;
  uninstall(): Promise<void>;
}

/**
 * argv that runs the installed launcher as `user` in `ns` with a private 0666 /dev/net/tun (it finds
 * the installed helper itself), under `timeout SECONDS` when given: a guest that hangs must not hang the test.
 */
export function launcherAs(
  installed: TestInstall,
  ns: { prefix(): string[] },
  user: TestUser,
  args: string[],
  timeoutSeconds?: number,
): string[] {
  const timeout = timeoutSeconds === undefined ? [] : ["timeout", String(timeoutSeconds)];
  return [...ns.prefix(), ...withOpenTunDevice(), ...asUser(user), ...timeout, installed.launcher, ...args];
}

/** Builds against a fresh ACL and runs `tap-launcher install` into a fresh prefix. */
export async function installForTest(mode: "setuid" | "caps", acl = "allow br0\n"): Promise<TestInstall> {
  const folder = sharedFolder("tl-acl-");
  const aclFile = join(folder, "bridge.conf");
  const policyFile = join(folder, "bridge-policy.conf");
  const setAcl = (content: string) => writeFileSync(aclFile, content, { mode: 0o644 });
  setAcl(acl);
  const dist = await buildWithAcl(aclFile, policyFile);
  const prefix = join(sharedFolder("tl-prefix-"), "usr");
  await runOk([join(dist, "tap-launcher"), "install", `--prefix=${prefix}`, `--mode=${mode}`, `--from=${dist}`]);
  return {
    ...installLayout(prefix),
    aclFile,
    policyFile,
    dist,
    setAcl,
    setPolicy: (content) => {
      if (content === null) rmSync(policyFile, { force: true });
      else {
        writeFileSync(policyFile, content);
        chmodSync(policyFile, 0o644);
      }
    },
    uninstall: async () => {
      await run([join(dist, "tap-launcher"), "uninstall", `--prefix=${prefix}`]);
    },
  };
}
