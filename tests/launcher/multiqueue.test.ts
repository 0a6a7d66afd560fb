// --queues=N in the launcher (fds 3.., TAP_FDS), with our helper, QEMU's helper and unmanaged TAPs; and the hand-over by exec.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { run } from "../support/proc.ts";
import { ALICE, asUser, BOB, withOpenTunDevice } from "../support/users.ts";
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from "../../shared/kernel.ts";
import { join } from "node:path";

const attachQueue = join(import.meta.dir, "../support/attach-queue.ts");

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid");
  installed.setPolicy("* br0 4 queues=3\n"); // several queues only where a line allows them
});
afterAll(() => installed.uninstall());

function asAlice(ns: TestNetns, args: string[]): string[] {
  return launcherAs(installed, ns, ALICE, args);
}

/** A guest that prints what it was given: the TAP variables, its fds above 2, and the TAP as the kernel reports it. */
const REPORT = [
  'echo "TAP_FD=$TAP_FD TAP_FDS=$TAP_FDS TAP_IFNAME=$TAP_IFNAME"',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && echo "fd $n $(readlink $fd)"; done',
  'ip -j -d link show dev "$TAP_IFNAME"',
].join("; ");

function report(stdout: string): {
  variables: string;
  fds: string[];
  link: { linkinfo: { info_data: Record<string, unknown> }; master?: string };
} {
  const [variables = "", ...rest] = stdout.trimEnd().split("\n");
  // The shell's own listing of /proc/self/fd has a fd that is closed (no target) by the time readlink runs.
  const fds = rest.filter((line) => /^fd \d+ \S/.test(line) && !line.includes("/proc/"));
  const link = JSON.parse(rest.find((line) => line.startsWith("[")) ?? "[]")[0];
  return { variables, fds, link };
}

describe("--queues with the bridge helper", () => {
  test("--queues=3: the guest gets the 3 queues of one multiqueue TAP as fds 3, 4, 5 and TAP_FDS=3:4:5", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const result = await run(asAlice(ns, ["--br=br0", "--queues=3", "--", "sh", "-c", REPORT]));
      expect(result.stderr).toBe("tap-launcher: tap0 (vnet header) is fds 3, 4, 5 (3 queues) of sh\n");
      expect(result.exitCode).toBe(0);
      const { variables, fds, link } = report(result.stdout);
      expect(variables).toBe("TAP_FD=3 TAP_FDS=3:4:5 TAP_IFNAME=tap0");
      expect(fds).toEqual(["fd 3 /dev/net/tun", "fd 4 /dev/net/tun", "fd 5 /dev/net/tun"]);
      expect(link.linkinfo.info_data).toMatchObject({ multi_queue: true, numqueues: 3 });
      expect(link.master).toBe("br0");
      expect(await ns.tapNames()).toEqual([]);
    });
  });

  test("QEMU's own helper does not know --queues: --queues=2 fails with a message that says so", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const qemuHelper = "/usr/lib/qemu/qemu-bridge-helper";
      const result = await run([
        ...ns.prefix(),
        ...privateEtcPrefix({ "qemu/bridge.conf": "allow br0\n" }),
        installed.launcher,
        `--helper=${qemuHelper}`,
        "--queues=2",
        "--",
        "true",
      ]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`tap-launcher: bridge helper ${qemuHelper} failed (exit status 1) for bridge br0: `);
      expect(result.stderr).toContain(
        "tap-launcher: --queues=2 needs a helper that knows --queues (tap-bridge-helper does; QEMU's qemu-bridge-helper does not): install it, or use --queues=1\n",
      );
      expect(await ns.tapNames()).toEqual([]);
      // The same helper with one queue works: QEMU's command line is unchanged.
      const one = await run([
        ...ns.prefix(),
        ...privateEtcPrefix({ "qemu/bridge.conf": "allow br0\n" }),
        installed.launcher,
        `--helper=${qemuHelper}`,
        "--",
        "true",
      ]);
      expect(one.exitCode).toBe(0);
    });
  });

  test("without queues= in the policy, one queue: --queues=2 is refused by the helper, which says who can allow more", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      installed.setPolicy("* br0 4\n");
      try {
        const result = await run(asAlice(ns, ["--br=br0", "--queues=2", "--", "true"]));
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain(
          `for bridge br0: access denied: --queues=2 is more than rule "* br0 4" at ${installed.policyFile}:1 allows (1 per TAP)\n`,
        );
        expect(result.stderr).toContain(
          `tap-launcher: ask for at most 1; an administrator can allow more with queues=N (up to 16) in ${installed.policyFile}\n`,
        );
        expect(result.stderr).not.toContain("needs a helper that knows --queues");
        expect(await ns.tapNames()).toEqual([]);
      } finally {
        installed.setPolicy("* br0 4 queues=3\n");
      }
    });
  });

  test("once handed over the multiqueue TAP belongs to the caller: another user cannot attach a queue to it", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const child = Bun.spawn({
        cmd: asAlice(ns, ["--br=br0", "--queues=2", "--", "sh", "-c", "echo up; exec sleep 30"]),
        stdout: "pipe",
        stderr: "pipe",
      });
      try {
        const reader = child.stdout.getReader();
        await reader.read(); // "up": the guest holds both queues
        const link = await ns.link("tap0");
        expect(link.linkinfo?.info_data).toMatchObject({ multi_queue: true, user: ALICE.uid, group: ALICE.gid });
        const flags = String(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
        const asBob = await run([...ns.prefix(), ...withOpenTunDevice(), ...asUser(BOB), process.execPath, attachQueue, "tap0", flags]);
        expect(asBob.stdout.trim()).toBe("EPERM");
        const asAliceToo = await run([
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          process.execPath,
          attachQueue,
          "tap0",
          flags,
        ]);
        expect(asAliceToo.stdout.trim()).toBe("attached"); // the control: the attempt itself works for the owner
      } finally {
        child.kill("SIGTERM");
        await child.exited;
      }
    });
  });

  test("a low limit on open files does not stop the hand-over", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const result = await run([
        ...ns.prefix(),
        ...withOpenTunDevice(),
        "prlimit",
        "--nofile=64:64",
        ...asUser(ALICE),
        installed.launcher,
        "--br=br0",
        "--queues=2",
        "--",
        "sh",
        "-c",
        REPORT,
      ]);
      expect(result.exitCode).toBe(0);
      expect(report(result.stdout).variables).toBe("TAP_FD=3 TAP_FDS=3:4 TAP_IFNAME=tap0");
    });
  });

  test("a failure that is not about --queues gets no --queues hint", async () => {
    await withNetns(async (ns) => {
      // The ACL allows br0, which this namespace lacks.
      const result = await run(asAlice(ns, ["--br=br0", "--queues=2", "--", "true"]));
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain("failed to find bridge `br0'");
      expect(result.stderr).not.toContain("needs a helper that knows --queues");
    });
  });
});

describe("--queues with an unmanaged TAP", () => {
  test("opens N queues of a pre-made multiqueue TAP; a single-queue TAP is refused with the fix", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec("ip", "tuntap", "add", "dev", "tapmq", "mode", "tap", "user", String(ALICE.uid), "multi_queue", "vnet_hdr");
      await ns.exec("ip", "tuntap", "add", "dev", "tapsq", "mode", "tap", "user", String(ALICE.uid));
      const result = await run(asAlice(ns, ["--tap=tapmq", "--unmanaged", "--queues=2", "--", "sh", "-c", REPORT]));
      expect(result.exitCode).toBe(0);
      const { variables, fds, link } = report(result.stdout);
      expect(variables).toBe("TAP_FD=3 TAP_FDS=3:4 TAP_IFNAME=tapmq");
      expect(fds).toEqual(["fd 3 /dev/net/tun", "fd 4 /dev/net/tun"]);
      expect(link.linkinfo.info_data).toMatchObject({ multi_queue: true, numqueues: 2 });

      const single = await run(asAlice(ns, ["--tap=tapsq", "--unmanaged", "--queues=2", "--", "true"]));
      expect(single.exitCode).toBe(1);
      expect(single.stderr).toContain("tap-launcher: TAP tapsq is not a multiqueue TAP: --queues=2 needs one made with multi_queue\n");
      expect(single.stderr).toContain("multi_queue");
    });
  });
});

describe("hand-over by exec", () => {
  test("the guest runs with the launcher's pid, no process runs the launcher's executable, and Bun's ignored signals are back to default", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const guest = "echo pid $$; grep -E '^Sig(Ign|Blk):' /proc/self/status; exec sleep 30";
      const child = Bun.spawn({ cmd: asAlice(ns, ["--br=br0", "--", "sh", "-c", guest]), stdout: "pipe", stderr: "pipe" });
      try {
        const reader = child.stdout.getReader();
        let text = "";
        while (!text.includes("SigBlk")) {
          const chunk = await reader.read();
          if (chunk.done) break;
          text += new TextDecoder().decode(chunk.value);
        }
        const guestPid = Number(/^pid (\d+)$/m.exec(text)?.[1]);
        expect(text).toMatch(/^SigIgn:\s+0+$/m);
        expect(text).toMatch(/^SigBlk:\s+0+$/m);
        // The chain is ip netns exec, unshare, sh, setpriv, launcher: each execs the next, so the
        // pid Bun.spawn saw is the launcher's, and it is the guest's now.
        expect(guestPid).toBe(child.pid);
        const launcherRunning = readdirSync("/proc")
          .filter((entry) => /^\d+$/.test(entry))
          .filter((pid) => {
            try {
              return readlinkSync(`/proc/${pid}/exe`) === installed.launcher;
            } catch {
              return false;
            }
          });
        expect(launcherRunning).toEqual([]);
      } finally {
        child.kill("SIGTERM");
        await child.exited;
      }
      expect(child.signalCode).toBe("SIGTERM");
      expect(await ns.tapNames()).toEqual([]);
    });
  });
});
