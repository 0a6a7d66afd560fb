// One layer-2 network across two hosts: two namespaces joined by an underlay veth, each with a br0 that
// carries a VXLAN port (VNI 4242, UDP 4789, MTU 1450 on the bridge). On host B, BOB's launcher hands a TAP
// to a small guest that answers ARP and ping; on host A, ALICE's launcher hands a TAP to a real QEMU
// guest, which pings host B's bridge address and host B's guest across VXLAN. Both TAPs get MTU 1450.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { lineReader } from "../support/lines.ts";
import { withNetns, type LinkInfo, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { testGuest } from "../support/qemu.ts";
import { ALICE, asUser, BOB, withOpenTunDevice } from "../support/users.ts";

const VNI = "4242";
const VXLAN_PORT = "4789";
const UNDERLAY = { a: "192.168.240.1", b: "192.168.240.2" };
/** The overlay: host A's QEMU guest, host B's bridge and host B's launcher-run guest. */
const GUEST_A = "10.77.0.2";
const BRIDGE_B = "10.77.0.1";
const GUEST_B = "10.77.0.3";
const peer = join(import.meta.dir, "vxlan-peer.ts");

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
}, 120_000);
afterAll(() => installed.uninstall());

/**
 * br0 with a VXLAN port towards `remote` over the underlay device ul0 (which has `local`), with MTU
 * 1450 set on the bridge: VXLAN over IPv4 adds 50 bytes to each frame on a 1500-byte underlay.
 */
async function vxlanBridge(ns: TestNetns, local: string, remote: string, vni = VNI): Promise<void> {
  await ns.ip("addr", "add", `${local}/24`, "dev", "ul0");
  await ns.ip("link", "set", "ul0", "up");
  await ns.ip("link", "add", "vx0", "type", "vxlan", "id", vni, "local", local, "remote", remote, "dstport", VXLAN_PORT, "dev", "ul0");
  await ns.ip("link", "add", "br0", "type", "bridge");
  await ns.ip("link", "set", "vx0", "master", "br0");
  await ns.ip("link", "set", "br0", "mtu", "1450");
  await ns.ip("link", "set", "vx0", "up");
  await ns.ip("link", "set", "br0", "up");
}

/**
 * Runs `body` with two fresh namespaces as hosts A and B, joined by the underlay veth ul0, each with
 * its VXLAN-backed br0 (host B's with VNI `vniOfB`) and host B's bridge at BRIDGE_B; both are removed
 * afterwards, with everything that runs in them, whatever happens.
 */
async function withTwoHosts(vniOfB: string, body: (hostA: TestNetns, hostB: TestNetns) => Promise<void>): Promise<void> {
  await withNetns(async (hostA) => {
    await withNetns(async (hostB) => {
      await hostA.ip("link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", hostB.name);
      await vxlanBridge(hostA, UNDERLAY.a, UNDERLAY.b);
      await vxlanBridge(hostB, UNDERLAY.b, UNDERLAY.a, vniOfB);
      await hostB.ip("addr", "add", `${BRIDGE_B}/24`, "dev", "br0");
      await body(hostA, hostB);
    });
  });
}

/** The TAP the launcher's helper made in `ns`, once there is one (QEMU boots first). */
async function waitForTap(ns: TestNetns, timeoutMs: number): Promise<LinkInfo> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const [name] = await ns.tapNames();
    if (name !== undefined) return ns.link(name);
    await Bun.sleep(50);
  }
  throw new Error(`no TAP appeared in ${ns.name} within ${timeoutMs} ms`);
}

/** argv running `command` in `ns` as `user` under the installed launcher, with a private 0666 /dev/net/tun. */
function launcherAs(ns: TestNetns, user: typeof ALICE, command: string[]): string[] {
  return [...ns.prefix(), ...withOpenTunDevice(), ...asUser(user), "timeout", "150", installed.launcher, "--br=br0", "--", ...command];
}

for (const [label, target] of [
  ["the QEMU guest on host A pings host B's bridge address across VXLAN", BRIDGE_B],
  ["the QEMU guest on host A pings host B's launcher-run guest across VXLAN", GUEST_B],
] as const) {
  test(label, async () => {
    await withTwoHosts(VNI, async (hostA, hostB) => {
      expect((await hostA.link("vx0")).linkinfo?.info_data).toMatchObject({ id: Number(VNI), port: Number(VXLAN_PORT) });

      // Host B: BOB's launcher hands its TAP to the answering guest (at most 3 echoes: the ping count).
      const far = Bun.spawn(launcherAs(hostB, BOB, [process.execPath, peer, GUEST_B, "3", "140000"]), { stdout: "pipe", stderr: "pipe" });
      const farStderr = new Response(far.stderr).text();
      const farLine = lineReader(far.stdout);
      const ready = await farLine();
      expect({ ready, stderr: ready === null ? await farStderr : "" }).toMatchObject({
        ready: expect.stringMatching(/^ready tap\d+ 1450$/),
      });
      const farTap = await hostB.link((ready ?? "").split(" ")[1] ?? "");
      expect([farTap.master, farTap.mtu, farTap.flags.includes("UP")]).toEqual(["br0", 1450, true]);

      // Host A: ALICE's launcher hands its TAP to QEMU, whose guest pings `target` three times.
      const near = Bun.spawn(launcherAs(hostA, ALICE, qemuCommand(guest, "tap,id=n0,fd=3", GUEST_A, target, 3)), {
        stdout: "pipe",
        stderr: "pipe",
      });
      const nearOutput = Promise.all([new Response(near.stdout).text(), new Response(near.stderr).text(), near.exited]);
      const nearTap = await waitForTap(hostA, 60_000);
      expect([nearTap.master, nearTap.mtu]).toEqual(["br0", 1450]);
      const [stdout, stderr, exitCode] = await nearOutput;
      expect({ ping: stdout.includes("TL-PING-OK"), exitCode, stderr: exitCode === 0 ? "" : stderr }).toEqual({
        ping: true,
        exitCode: 0,
        stderr: "",
      });
      expect(await hostA.tapNames()).toEqual([]);

      if (target === GUEST_B) {
        // Every echo came through host B's TAP to BOB's guest, which answered it.
        expect(await farLine()).toBe("answered 3");
        expect(await far.exited).toBe(0);
        expect(await hostB.tapNames()).toEqual([]);
      }
      // Otherwise host B's guest is still waiting: withNetns kills it with the namespace.
    });
  }, 180_000);
}

test("the control: with another VNI on host B the same ping fails, so the frames did cross in VXLAN", async () => {
  await withTwoHosts("4243", async (hostA, hostB) => {
    const result = await run(launcherAs(hostA, ALICE, qemuCommand(guest, "tap,id=n0,fd=3", GUEST_A, BRIDGE_B, 1)));
    expect(result.stdout).toContain("TL-PING-FAIL");
    expect(result.exitCode).toBe(3);
    // The guest's ARP requests left host A in VXLAN packets; host B's vx0 (VNI 4243) took none of them.
    const sent = JSON.parse(await hostA.ip("-j", "-s", "link", "show", "dev", "vx0")) as { stats64: { tx: { packets: number } } }[];
    expect(sent[0]?.stats64.tx.packets ?? 0).toBeGreaterThan(0);
    const received = JSON.parse(await hostB.ip("-j", "-s", "link", "show", "dev", "vx0")) as { stats64: { rx: { packets: number } } }[];
    expect(received[0]?.stats64.rx.packets).toBe(0);
  });
}, 180_000);
