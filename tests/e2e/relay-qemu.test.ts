// Real QEMU behind the relay, as an unprivileged user: -netdev stream and -netdev dgram on fd 3, and a capture of its pings.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempFolder } from "../support/build.ts";
import { qemuCommand, type Guest } from "../support/guest.ts";
import { installForTest, launcherAs, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { BRIDGE_ADDRESS, bridgeWithAddress, GUEST_ADDRESS, testGuest } from "../support/qemu.ts";
import { ALICE } from "../support/users.ts";

let installed: TestInstall;
let guest: Guest;
beforeAll(async () => {
  [installed, guest] = await Promise.all([installForTest("setuid"), testGuest()]);
});
afterAll(() => installed.uninstall());

for (const [mode, netdev] of [
  ["stream", "stream,id=n0,addr.type=fd,addr.str=3"],
  ["dgram", "dgram,id=n0,local.type=fd,local.str=3"],
] as const) {
  test(`tap-launcher --relay=${mode} -- qemu … -netdev ${netdev.split(",")[0]}: the guest pings the bridge`, async () => {
    await withNetns(async (ns) => {
      await bridgeWithAddress(ns);
      const result = await run(
        launcherAs(
          installed,
          ns,
          ALICE,
          ["--verbose", "--br=br0", `--relay=${mode}`, "--", ...qemuCommand(guest, netdev, GUEST_ADDRESS, BRIDGE_ADDRESS)],
          120,
        ),
      );
      expect(result.stdout).toContain("TL-PING-OK");
      expect(result.exitCode).toBe(0);
      // --verbose: the counters at exit; ARP and three pings each way at least.
      const counters = /tap -> guest: (\d+) frames[\s\S]*guest -> tap: (\d+) frames/.exec(result.stderr);
      expect(Number(counters?.[1])).toBeGreaterThanOrEqual(4);
      expect(Number(counters?.[2])).toBeGreaterThanOrEqual(4);
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 150_000);
}

test("tap-launcher --relay=stream --pcap=FILE --stats=json as a user: tcpdump -r FILE shows the guest's echo requests and the replies", async () => {
  await withNetns(async (ns) => {
    await bridgeWithAddress(ns);
    const folder = tempFolder("tl-pcap-");
    chownSync(folder, ALICE.uid, ALICE.gid);
    const file = join(folder, "ping.pcap");
    const result = await run(
      launcherAs(
        installed,
        ns,
        ALICE,
        [
          "--br=br0",
          "--relay=stream",
          `--pcap=${file}`,
          "--stats=json",
          "--",
          ...qemuCommand(guest, "stream,id=n0,addr.type=fd,addr.str=3", GUEST_ADDRESS, BRIDGE_ADDRESS),
        ],
        120,
      ),
    );
    expect(result.stdout).toContain("TL-PING-OK");
    expect(result.exitCode).toBe(0);
    // The user's own file, readable by no one else.
    const stat = statSync(file);
    expect({ uid: stat.uid, mode: stat.mode & 0o7777 }).toEqual({ uid: ALICE.uid, mode: 0o600 });
    const dump = await run(["tcpdump", "-r", file, "-n"]);
    expect(dump.exitCode).toBe(0);
    console.log(dump.stdout);
    expect(dump.stdout).toMatch(
      new RegExp(`IP ${GUEST_ADDRESS.replaceAll(".", "\\.")} > ${BRIDGE_ADDRESS.replaceAll(".", "\\.")}: ICMP echo request`),
    );
    expect(dump.stdout).toMatch(
      new RegExp(`IP ${BRIDGE_ADDRESS.replaceAll(".", "\\.")} > ${GUEST_ADDRESS.replaceAll(".", "\\.")}: ICMP echo reply`),
    );
    expect(dump.stdout).toMatch(/ARP, Request who-has/);
    // The one JSON line at exit counts at least what the capture shows each way.
    const stats = result.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(stats).toHaveLength(1);
    const captured = dump.stdout.trim().split("\n").length;
    expect(stats[0].tap_to_guest.frames + stats[0].guest_to_tap.frames).toBe(captured);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 150_000);
