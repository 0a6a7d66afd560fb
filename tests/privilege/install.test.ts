// `tap-launcher install` in both modes, and the installed helper used by a real unprivileged user.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { grantPrivilege, privilegeOf } from "../../launcher/install.ts";
import { isBunExecutable } from "../../shared/bun-binary.ts";
import { closeFd } from "../../shared/libc.ts";
import { tapInfo } from "../../shared/tap-info.ts";
import { runHelper } from "../support/helper-run.ts";
import { inPrivateMountNamespace } from "../support/mount-ns.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { catchSendMoment, statusField } from "../support/send-moment.ts";
import { ALICE, asUser, sharedFolder, withOpenTunDevice } from "../support/users.ts";

for (const mode of ["setuid", "caps"] as const) {
  describe(`install --mode=${mode}`, () => {
    let installed: TestInstall;
    beforeAll(async () => {
      installed = await installForTest(mode);
    });
    afterAll(async () => {
      await installed.uninstall();
    });

    test("only the shim is privileged; the Bun helper is root-owned, 0755, without privilege", () => {
      const shim = lstatSync(installed.shim);
      expect(isBunExecutable(installed.shim)).toBe(false);
      expect(shim.uid).toBe(0);
      expect(privilegeOf(installed.shim)).toEqual(
        mode === "setuid" ? { setuid: true, setgid: false, capabilities: false } : { setuid: false, setgid: false, capabilities: true },
      );
      expect(shim.mode & 0o7777).toBe(mode === "setuid" ? 0o4755 : 0o755);
      const helper = lstatSync(installed.helper);
      expect(isBunExecutable(installed.helper)).toBe(true);
      expect(helper.uid).toBe(0);
      expect(helper.mode & 0o7777).toBe(0o755);
      expect(privilegeOf(installed.helper)).toEqual({ setuid: false, setgid: false, capabilities: false });
      expect(privilegeOf(installed.launcher)).toEqual({ setuid: false, setgid: false, capabilities: false });
    });

    test("as an unprivileged user: a working TAP on an allowed bridge", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0", 4000);
        const outcome = await runHelper([
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          installed.shim,
          "--use-vnet",
          "--fd=3",
          "--br=br0",
        ]);
        expect(outcome.stderr).toBe("");
        expect(outcome.exitCode).toBe(0);
        const fd = outcome.fd ?? -1;
        const info = tapInfo(fd);
        expect(info.vnetHeader).toBe(true);
        const link = await ns.link(info.name);
        expect([link.master, link.mtu, link.flags.includes("UP"), link.address.slice(0, 3)]).toEqual(["br0", 4000, true, "fe:"]);
        closeFd(fd);
        expect(await ns.tapNames()).toEqual([]);
      });
    });

    test("as an unprivileged user: a denied bridge is refused", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br1");
        const outcome = await runHelper([
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          installed.shim,
          "--use-vnet",
          "--fd=3",
          "--br=br1",
        ]);
        expect(outcome.exitCode).toBe(1);
        expect(outcome.fd).toBeNull();
        expect(outcome.stderr).toContain(`access denied by acl file: no allow rule matches bridge br1 in ${installed.aclFile}`);
        expect(await ns.tapNames()).toEqual([]);
      });
    });

    test("the helper's uids and capabilities, on every thread, at the moment it sends the fd", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const moment = await catchSendMoment([
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          installed.shim,
          "--use-vnet",
          "--fd=3",
          "--br=br0",
        ]);
        expect(moment.stderr).toBe("");
        expect(moment.exitCode).toBe(0);
        expect(moment.received.fd).not.toBeNull();
        closeFd(moment.received.fd ?? -1);
        // The kernel's own record of the sender (SCM_CREDENTIALS): the caller, not root.
        expect(moment.received.sender?.uid).toBe(ALICE.uid);
        expect(moment.received.sender?.gid).toBe(ALICE.gid);
        expect(moment.threads.length).toBeGreaterThan(1); // Bun runs several threads: all are checked
        const seen = moment.threads.map((status) => ({
          name: statusField(status, "Name"),
          uid: statusField(status, "Uid"),
          gid: statusField(status, "Gid"),
          groups: statusField(status, "Groups"),
          permitted: statusField(status, "CapPrm"),
          effective: statusField(status, "CapEff"),
          ambient: statusField(status, "CapAmb"),
          noNewPrivs: statusField(status, "NoNewPrivs"),
        }));
        console.log(`${mode}: helper at the moment it sends the fd:\n${seen.map((t) => JSON.stringify(t)).join("\n")}`);
        for (const thread of seen) {
          expect(thread).toMatchObject({
            uid: `${ALICE.uid}\t${ALICE.uid}\t${ALICE.uid}\t${ALICE.uid}`,
            gid: `${ALICE.gid}\t${ALICE.gid}\t${ALICE.gid}\t${ALICE.gid}`,
            groups: ALICE.groups.join(" "),
            permitted: "0000000000001000",
            effective: "0000000000001000",
            ambient: "0000000000001000",
            noNewPrivs: "1",
          });
        }
        expect(await ns.tapNames()).toEqual([]);
      });
    });

    test("under no_new_privs the shim fails at its first privileged step and says why and what to do", async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        // A second setpriv sets no_new_privs: the first keeps root's permitted set across its exec, and under
        // no_new_privs the kernel grants a file capability when the old permitted set already holds it.
        const outcome = await runHelper([
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          "setpriv",
          "--nnp",
          installed.shim,
          "--use-vnet",
          "--fd=3",
          "--br=br0",
        ]);
        expect(outcome.exitCode).toBe(1);
        expect(outcome.fd).toBeNull();
        const lines = outcome.stderr.trimEnd().split("\n");
        expect(lines.length).toBe(2);
        expect(lines[0]).toBe("tap-bridge-helper: failed to keep only CAP_NET_ADMIN: Operation not permitted");
        expect(lines[1]).toStartWith("tap-bridge-helper: it started without its privilege: it sits on a nosuid mount");
        expect(lines[1]).toContain("or the caller runs under no_new_privs (systemd NoNewPrivileges=, a container, flatpak");
        expect(lines[1]).toContain("tap-launcher --tap=NAME --unmanaged, which needs no privilege");
        expect(await ns.tapNames()).toEqual([]);
      });
    });

    test("doctor names the mode and finds nothing to fix in the installation", async () => {
      const doctor = await run([installed.launcher, "doctor", `--helper=${installed.shim}`]);
      expect(doctor.stderr).toContain(mode === "setuid" ? "exec shim, setuid mode" : "exec shim, caps mode (cap_net_admin");
      expect(doctor.stderr).toContain(`Bun helper, unprivileged (owner 0:0, mode 0755)`);
      expect(doctor.stderr).not.toContain("CRITICAL");
    });
  });
}

describe("install refuses an untrusted prefix and changes nothing there", () => {
  test("a sticky, world-writable prefix such as /tmp", async () => {
    const installed = await installForTest("setuid");
    try {
      const sticky = sharedFolder("tl-sticky-");
      chmodSync(sticky, 0o1777);
      const result = await run([installed.launcher, "install", `--prefix=${sticky}`, "--mode=setuid", `--from=${installed.dist}`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${sticky} is writable by group or others (mode 1777)`);
      expect(readdirSync(sticky)).toEqual([]);
    } finally {
      await installed.uninstall();
    }
  });

  test("a libexec planted by a user, with a symlink at the temporary name", async () => {
    const installed = await installForTest("setuid");
    try {
      const prefix = sharedFolder("tl-planted-");
      const libexec = join(prefix, "libexec");
      mkdirSync(libexec);
      const target = join(sharedFolder("tl-target-"), "evil");
      writeFileSync(target, "untouched");
      symlinkSync(target, join(libexec, "tap-bridge-helper.bun.new"));
      chownSync(libexec, ALICE.uid, ALICE.gid);
      const result = await run([installed.launcher, "install", `--prefix=${prefix}`, "--mode=setuid", `--from=${installed.dist}`]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`${libexec} is owned by uid ${ALICE.uid}, not root`);
      expect(readFileSync(target, "utf8")).toBe("untouched");
      expect(lstatSync(libexec).uid).toBe(ALICE.uid);
      expect(readdirSync(libexec)).toEqual(["tap-bridge-helper.bun.new"]);
    } finally {
      await installed.uninstall();
    }
  });
});

describe("install and uninstall on a prefix they must not touch", () => {
  let installed: TestInstall;
  beforeAll(async () => {
    installed = await installForTest("setuid");
  });
  afterAll(async () => {
    await installed.uninstall();
  });

  /** The files of the real installation, each still there. */
  const intact = () => [installed.shim, installed.helper, installed.launcher].map((path) => existsSync(path));

  test("uninstall of a user's prefix whose libexec and bin link into a real installation: refused, nothing removed", async () => {
    const prefix = join(sharedFolder("tl-links-"), "p");
    mkdirSync(prefix);
    for (const name of ["libexec", "bin"]) {
      symlinkSync(join(installed.prefix, name), join(prefix, name));
      lchownSync(join(prefix, name), ALICE.uid, ALICE.gid);
    }
    chownSync(prefix, ALICE.uid, ALICE.gid);
    const result = await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`tap-launcher: ${prefix} is owned by uid ${ALICE.uid}, not root: its owner could replace the helper\n`);
    expect(result.stderr).toContain("nothing was removed");
    expect(intact()).toEqual([true, true, true]);
    expect(readdirSync(prefix).sort()).toEqual(["bin", "libexec"]);
  });

  test("uninstall of a root-owned prefix whose libexec and bin are symbolic links: refused, nothing removed", async () => {
    const prefix = join(sharedFolder("tl-links-"), "p");
    mkdirSync(prefix, { mode: 0o755 });
    for (const name of ["libexec", "bin"]) symlinkSync(join(installed.prefix, name), join(prefix, name));
    const result = await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`tap-launcher: ${prefix}/libexec is a symbolic link: give the prefix as a real path\n`);
    expect(intact()).toEqual([true, true, true]);
  });

  test("uninstall leaves a directory standing where a file of ours would be, and says so (no stack trace)", async () => {
    const prefix = join(sharedFolder("tl-dirs-"), "p");
    mkdirSync(join(prefix, "libexec", "tap-bridge-helper"), { recursive: true, mode: 0o755 });
    const result = await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      `tap-launcher: warning: left ${prefix}/libexec/tap-bridge-helper alone: it is a directory, which install never makes\n` +
        `tap-launcher: warning: nothing of tap-launcher was installed under ${prefix}\n`,
    );
    expect(intact()).toEqual([true, true, true]);
  });

  test("install for another prefix compiles each shim from the build's copy of its source (shim/shim.c); a build without it is refused, nothing written", async () => {
    // The launcher carries no C source (it imports nothing from helper/): the build folder does.
    expect(readFileSync(join(installed.dist, "shim", "shim.c"), "utf8")).toBe(
      readFileSync(join(import.meta.dir, "../../helper/shim.c"), "utf8"),
    );
    const from = sharedFolder("tl-nosource-");
    for (const name of ["tap-launcher", ...installed.privileged.map((program) => program.name)]) {
      copyFileSync(join(installed.dist, name), join(from, name));
    }
    cpSync(join(installed.dist, "man"), join(from, "man"), { recursive: true });
    const prefix = join(sharedFolder("tl-nosourceprefix-"), "usr");
    const refused = await run([installed.launcher, "install", `--prefix=${prefix}`, "--mode=setuid", `--from=${from}`]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `tap-launcher: no shim source at ${from}/shim/shim.c to compile tap-bridge-helper's shim for ${prefix}: run \`bun run build\` first\n`,
    );
    expect(existsSync(prefix)).toBe(false);
    // With the build's shim folder (compiled for another prefix) the source there is compiled.
    cpSync(join(installed.dist, "shim"), join(from, "shim"), { recursive: true });
    const done = await run([installed.launcher, "install", `--prefix=${prefix}`, "--mode=setuid", `--from=${from}`]);
    expect(done.stderr).toContain(`compiling one for ${prefix}`);
    expect(done.exitCode).toBe(0);
    const shim = readFileSync(join(prefix, "libexec", "tap-user-nic"));
    expect(shim.includes(Buffer.from(`${prefix}/libexec/tap-user-nic.bun\0`))).toBe(true);
    await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
  });

  /** A copy of the test's build in a fresh root-owned folder (the programs as hard links), to change one thing in. */
  const copyOfBuild = (): string => {
    const from = sharedFolder("tl-from-");
    for (const name of ["tap-launcher", ...installed.privileged.map((program) => program.name)]) {
      linkSync(join(installed.dist, name), join(from, name));
    }
    for (const folder of ["shim", "man"]) cpSync(join(installed.dist, folder), join(from, folder), { recursive: true });
    return from;
  };

  /** A root-owned program that is not a shim (what a user would want made setuid: python, a shell). */
  const notAShim = (): string => {
    const program = join(sharedFolder("tl-notashim-"), "id");
    copyFileSync("/usr/bin/id", program);
    return program;
  };

  const installFrom = (from: string, prefix: string) =>
    run([installed.launcher, "install", `--prefix=${prefix}`, "--mode=setuid", `--from=${from}`]);

  test("install as root refuses a build folder a user owns, or a group can write, before it writes anything", async () => {
    const from = copyOfBuild();
    const prefix = join(sharedFolder("tl-userfrom-"), "usr");
    chownSync(from, ALICE.uid, ALICE.gid);
    const owned = await installFrom(from, prefix);
    expect(owned.exitCode).toBe(1);
    expect(owned.stderr).toContain(`tap-launcher: ${from} is owned by uid ${ALICE.uid}, not root: its owner could replace the helper\n`);
    expect(owned.stderr).toContain("build as root, or copy the build to a root-owned folder no one else can write");
    expect(existsSync(prefix)).toBe(false);
    chownSync(from, 0, 0);
    chmodSync(join(from, "shim"), 0o775);
    const writable = await installFrom(from, prefix);
    expect(writable.exitCode).toBe(1);
    expect(writable.stderr).toContain(`tap-launcher: ${from}/shim is writable by group or others (mode 775)`);
    expect(existsSync(prefix)).toBe(false);
  });

  test("install as root refuses a build's shim that is a symbolic link (to a program it would make setuid root)", async () => {
    const from = copyOfBuild();
    const prefix = join(sharedFolder("tl-linkshim-"), "usr");
    writeFileSync(join(from, "shim", "build.json"), JSON.stringify({ prefix }));
    const shim = join(from, "shim", "tap-bridge-helper");
    const target = notAShim();
    await run(["rm", "-f", shim]);
    symlinkSync(target, shim);
    const result = await installFrom(from, prefix);
    try {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`tap-launcher: refusing ${shim}: it is a symbolic link, not a file the build made\n`);
      expect(existsSync(prefix)).toBe(false);
      expect(privilegeOf(target).setuid).toBe(false);
    } finally {
      await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    }
  });

  test("install as root grants no prebuilt shim that is not what the build's shim.c compiles to", async () => {
    const from = copyOfBuild();
    const prefix = join(sharedFolder("tl-othershim-"), "usr");
    writeFileSync(join(from, "shim", "build.json"), JSON.stringify({ prefix }));
    const shim = join(from, "shim", "tap-bridge-helper");
    await run(["rm", "-f", shim]);
    copyFileSync(notAShim(), shim);
    const result = await installFrom(from, prefix);
    try {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `tap-launcher: refusing ${shim}: it is not what ${from}/shim/shim.c compiles to for ${prefix}, so it is not the build's own shim\n`,
      );
      expect(existsSync(prefix)).toBe(false);
    } finally {
      await run([installed.launcher, "uninstall", `--prefix=${prefix}`]);
    }
  });

  test("install as root compiles no shim.c that is a symbolic link", async () => {
    const from = copyOfBuild();
    const source = join(from, "shim", "shim.c");
    const elsewhere = join(sharedFolder("tl-elsewhere-"), "shim.c");
    copyFileSync(source, elsewhere);
    await run(["rm", "-f", source]);
    symlinkSync(elsewhere, source);
    const prefix = join(sharedFolder("tl-linksource-"), "usr");
    const result = await installFrom(from, prefix);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`tap-launcher: refusing ${source}: it is a symbolic link, not a file the build made\n`);
    expect(existsSync(prefix)).toBe(false);
  });

  /** Runs `script` as root in a private mount namespace with $1 a fresh folder, $2 the launcher, $3 the build. */
  const inPrivateMounts = (script: string) =>
    run(inPrivateMountNamespace(script, sharedFolder("tl-mount-"), installed.launcher, installed.dist));

  test("install onto a nosuid mount is refused, says why, and creates nothing", async () => {
    const result = await inPrivateMounts(
      'mount -t tmpfs -o nosuid,mode=0755 tl-nosuid "$1" || exit 99; "$2" install --prefix="$1/usr" --mode=setuid --from="$3"; status=$?; ls -A "$1"; exit $status',
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^tap-launcher: (\/\S+)\/usr\/libexec is on a nosuid mount \(\1\): the kernel would ignore the shim's setuid bit and file capabilities, and every run would fail\n/,
    );
    expect(result.stderr).toContain("tap-launcher: install under a prefix on a mount without nosuid");
    expect(result.stdout).toBe("");
  });

  test("the same tmpfs without nosuid: install and uninstall succeed (the control)", async () => {
    const result = await inPrivateMounts(
      'mount -t tmpfs -o mode=0755 tl-suid "$1" || exit 99; "$2" install --prefix="$1/usr" --mode=setuid --from="$3" && ls "$1/usr/libexec" && "$2" uninstall --prefix="$1/usr" && ls -A "$1/usr"',
    );
    expect(result.stderr).not.toContain("nosuid");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("tap-bridge-helper\ntap-bridge-helper.bun\ntap-user-nic\ntap-user-nic.bun\n");
  });
});

describe("a privileged Bun executable", () => {
  test("install refuses to grant privilege to a Bun executable", async () => {
    const installed = await installForTest("setuid");
    try {
      const copy = join(sharedFolder("tl-bun-"), "copy");
      copyFileSync(installed.helper, copy);
      expect(() => grantPrivilege(copy, "setuid")).toThrow(/refusing to make .* privileged: it is a Bun executable/);
      expect(() => grantPrivilege(copy, "caps")).toThrow(/it is a Bun executable/);
      expect(privilegeOf(copy)).toEqual({ setuid: false, setgid: false, capabilities: false });
    } finally {
      await installed.uninstall();
    }
  });

  test("doctor reports one as critical (shown on a nosuid tmpfs in a private mount namespace, where the bit is inert)", async () => {
    const installed = await installForTest("setuid");
    try {
      const script = [
        'mount -t tmpfs -o nosuid,nodev,mode=0700 tl-doctor "$1"',
        'mkdir "$1/libexec" && cp "$2" "$1/libexec/tap-bridge-helper.bun" && cp "$2" "$1/libexec/tap-bridge-helper"',
        'chmod 4755 "$1/libexec/tap-bridge-helper"',
        'exec "$3" doctor --helper="$1/libexec/tap-bridge-helper"',
      ].join(" && ");
      const doctor = await run(inPrivateMountNamespace(script, sharedFolder("tl-doctor-"), installed.helper, installed.launcher));
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stderr).toMatch(/CRITICAL: .*libexec\/tap-bridge-helper: a Bun executable with the setuid\/setgid bit/);
      expect(doctor.stderr).toMatch(/fix: now, as root: chmod u-s,g-s/);
    } finally {
      await installed.uninstall();
    }
  });
});
