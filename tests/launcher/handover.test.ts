// Hand-over mode: the guest gets the TAP as fd 3 and nothing else of ours; exit codes; signals.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { lineReader } from "../support/lines.ts";
import { ALICE, asUser } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid");
});
afterAll(() => installed.uninstall());

/** The installed launcher, run by ALICE in `ns` with a 0666 /dev/net/tun; it finds the installed helper itself. */
function asAlice(ns: { prefix(): string[] }, args: string[]): string[] {
  return launcherAs(installed, ns, ALICE, args);
}

describe("hand-over", () => {
  test("the guest sees the TAP on fd 3, TAP_FD and TAP_IFNAME, and no other fd of ours", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const guest = 'echo "TAP_FD=$TAP_FD TAP_IFNAME=$TAP_IFNAME"; exec ls -l /proc/self/fd';
      const result = await run(asAlice(ns, ["--br=br0", "--", "sh", "-c", guest]));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^TAP_FD=3 TAP_IFNAME=tap0$/m);
      const fds = [...result.stdout.matchAll(/ (\d+) -> (.*)$/gm)].filter((m) => !m[2]?.startsWith("/proc/")).map((m) => `${m[1]} ${m[2]}`);
      expect(fds.map((fd) => fd.split(" ")[0])).toEqual(["0", "1", "2", "3"]);
      expect(fds[3]).toBe("3 /dev/net/tun");
      expect(await ns.tapNames()).toEqual([]);
    });
  });

  test("the TAP reaches the guest blocking, as qemu-bridge-helper sends it: a plain read(3) waits for a frame", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      // fdinfo's flags are octal; O_NONBLOCK is 04000.
      const result = await run(asAlice(ns, ["--br=br0", "--", "sh", "-c", "grep ^flags: /proc/self/fdinfo/3"]));
      expect(result.exitCode).toBe(0);
      const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(result.stdout)?.[1] ?? "", 8);
      expect(flags & 0o4000).toBe(0);
      expect(flags & 0o3).toBe(0o2); // O_RDWR, the control
    });
  });

  test("the guest's exit status comes back, and 128+signal when it is killed", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      expect((await run(asAlice(ns, ["--br=br0", "--", "sh", "-c", "exit 42"]))).exitCode).toBe(42);
      expect((await run(asAlice(ns, ["--br=br0", "--", "sh", "-c", "kill -KILL $$"]))).exitCode).toBe(128 + 9);
      expect(await ns.tapNames()).toEqual([]);
    });
  });

  test("a guest command that does not exist: exit 127 and no TAP", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const result = await run(asAlice(ns, ["--br=br0", "--", "no-such-guest-command"]));
      expect(result.exitCode).toBe(127);
      expect(result.stderr).toContain('failed to start the guest "no-such-guest-command": ENOENT');
      expect(await ns.tapNames()).toEqual([]);
    });
  });

  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    test(`${signal} to the launcher ends the guest and the launcher, and no TAP is left`, async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        // The guest says it is up (with its TAP), then becomes one sleeping process, as QEMU is one.
        const launcher = Bun.spawn(asAlice(ns, ["--br=br0", "--", "sh", "-c", 'echo "up on $TAP_IFNAME"; exec sleep 600']), {
          stdout: "pipe",
          stderr: "pipe",
        });
        const nextLine = lineReader(launcher.stdout);
        expect(await nextLine()).toBe("up on tap0");
        expect(await ns.tapNames()).toEqual(["tap0"]);
        launcher.kill(signal);
        const status = await launcher.exited;
        const numbers = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
        expect(status).toBe(128 + numbers[signal]);
        expect(await ns.tapNames()).toEqual([]);
      });
    });
  }
});

describe("doctor, as the user", () => {
  test("checks /dev/net/tun, the installed helper's mode and what the ACL allows this user per bridge", async () => {
    installed.setAcl("allow br0\nallow brother\ndeny brother\n");
    try {
      await withNetns(async (ns) => {
        for (const bridge of ["br0", "brother", "brnone"]) await ns.addBridge(bridge);
        const result = await run(asAlice(ns, ["doctor"]));
        const lines = result.stderr;
        expect(lines).toContain("ok: /dev/net/tun: mode 0666, opens for this user");
        expect(lines).toContain(`ok: ${installed.shim}: exec shim, setuid mode`);
        expect(lines).toContain(`ok: bridge br0: allowed for you ("allow br0" at ${installed.aclFile}:1)`);
        expect(lines).toContain(`bridge brother: denied for you ("deny brother" at ${installed.aclFile}:3)`);
        expect(lines).toContain(`bridge brnone: denied for you (no rule matches) -- fix: add "allow brnone" to ${installed.aclFile}`);
        expect(result.exitCode).toBe(0);
      });
      // Without the 0666 node, the machine's own /dev/net/tun decides; whatever its mode, doctor says.
      const plain = await run([...asUser(ALICE), installed.launcher, "doctor"]);
      expect(plain.stderr).toMatch(
        /\/dev\/net\/tun: mode 0\d\d\d, (opens for this user|cannot be opened by this user \(EACCES\) -- fix: chmod 0666)/,
      );
    } finally {
      installed.setAcl("allow br0\n");
    }
  });

  test("a missing helper is reported with how to install it", async () => {
    const result = await run([...asUser(ALICE), installed.launcher, "doctor", `--helper=${join(installed.prefix, "nope")}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no helper installed here -- fix: as root: tap-launcher install");
  });
});
