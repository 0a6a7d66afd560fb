// The relay on the real kernel: every frame size both ways in both formats, fuzzed streams, a flood
// into a guest that stops reading, and the TAP vanishing under it.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BATCH } from "../../launcher/datapath/tap-port.ts";
import { TUN_F_CSUM, TUN_F_TSO4 } from "../../shared/kernel-launcher.ts";
import { buildAllowingBr0, tempFolder } from "../support/build.ts";
import { lineReader } from "../support/lines.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { PACKET_TOOL, RELAY_GUEST } from "../support/tools.ts";

let launcher = "";
let helper = "";

beforeAll(async () => {
  ({ launcher, helper } = await buildAllowingBr0());
});

/** br0 with MTU `mtu` and a veth pair: vA is the bridge's port, vB the far end tests send and capture on. */
async function bridgeWithVeth(ns: TestNetns, mtu: number): Promise<void> {
  await ns.addBridge("br0");
  await ns.ip("link", "add", "vA", "mtu", String(mtu), "type", "veth", "peer", "name", "vB", "mtu", String(mtu));
  await ns.ip("link", "set", "vA", "master", "br0");
  await ns.ip("link", "set", "br0", "mtu", String(mtu));
  await ns.ip("link", "set", "vA", "up");
  await ns.ip("link", "set", "vB", "up");
}

function relayCommand(ns: TestNetns, mode: string, guest: string[], verbose = false): string[] {
  return [...ns.prefix(), launcher, ...(verbose ? ["--verbose"] : []), "--br=br0", `--helper=${helper}`, `--relay=${mode}`, "--", ...guest];
}

/** The sweep sent from vB reaches the guest `launch` runs (a launcher command around the guest's argv) intact and in order. */
async function sweepReachesGuest(ns: TestNetns, launch: (guest: string[]) => string[], format: string, sweep: string[]): Promise<void> {
  const relay = Bun.spawn(launch([process.execPath, RELAY_GUEST, "recv-sweep", format, ...sweep, "10000"]), {
    stdout: "pipe",
    stderr: "pipe",
  });
  const nextLine = lineReader(relay.stdout);
  expect(await nextLine()).toBe("ready");
  await ns.exec(process.execPath, PACKET_TOOL, "send-sweep", "vB", ...sweep);
  expect(await nextLine()).toMatch(/^ok \d+$/);
  expect(await relay.exited).toBe(0);
}

/** The sweep the guest `launch` runs sends reaches vB intact and in order. */
async function sweepReachesVeth(ns: TestNetns, launch: (guest: string[]) => string[], format: string, sweep: string[]): Promise<void> {
  const capture = Bun.spawn([...ns.prefix(), process.execPath, PACKET_TOOL, "recv-sweep", "vB", ...sweep, "10000"], { stdout: "pipe" });
  const nextLine = lineReader(capture.stdout);
  expect(await nextLine()).toBe("ready");
  const relay = await run(launch([process.execPath, RELAY_GUEST, "send-sweep", format, ...sweep]));
  expect(relay.stderr).not.toMatch(/relay stopped|the relay failed/);
  expect(await nextLine()).toMatch(/^ok \d+$/);
  expect(relay.exitCode).toBe(0);
}

const SWEEPS = [
  { label: "every size from 14 to 1514 bytes (MTU 1500)", mtu: 1500, sweep: ["14", "1514", "1"] },
  { label: "sizes up to 65535 bytes (MTU 65521)", mtu: 65521, sweep: ["14", "65535", "1021"] },
];

for (const mode of ["stream", "dgram"] as const) {
  describe(`--relay=${mode}`, () => {
    for (const { label, mtu, sweep } of SWEEPS) {
      test(`veth -> guest: ${label}, intact and in order`, async () => {
        await withNetns(async (ns) => {
          await bridgeWithVeth(ns, mtu);
          await sweepReachesGuest(ns, (guest) => relayCommand(ns, mode, guest), mode, sweep);
          expect(await ns.tapNames()).toEqual([]);
        });
      }, 60_000);

      test(`guest -> veth: ${label}, intact and in order`, async () => {
        await withNetns(async (ns) => {
          await bridgeWithVeth(ns, mtu);
          await sweepReachesVeth(ns, (guest) => relayCommand(ns, mode, guest), mode, sweep);
          expect(await ns.tapNames()).toEqual([]);
        });
      }, 60_000);
    }
  });
}

const burstGuest = join(import.meta.dir, "burst-guest.ts");

describe("bursts: batches towards the TAP keep every frame intact and in order", () => {
  for (const mode of ["stream", "dgram"] as const) {
    test(`--relay=${mode}: every size from 14 to 1514 bytes back to back${mode === "stream" ? ", cut at random points" : ""}`, async () => {
      await withNetns(async (ns) => {
        await bridgeWithVeth(ns, 1500);
        const capture = Bun.spawn([...ns.prefix(), process.execPath, PACKET_TOOL, "recv-sweep", "vB", "14", "1514", "1", "10000"], {
          stdout: "pipe",
        });
        const nextLine = lineReader(capture.stdout);
        expect(await nextLine()).toBe("ready");
        const relay = await run([
          ...ns.prefix(),
          launcher,
          "--verbose",
          "--br=br0",
          `--helper=${helper}`,
          `--relay=${mode}`,
          "--",
          process.execPath,
          burstGuest,
          mode,
          "14",
          "1514",
          "1",
          "7",
        ]);
        expect(relay.stderr).not.toMatch(/relay stopped|the relay failed/);
        expect(relay.stderr).toMatch(/guest -> tap: 1501 frames, \d+ bytes, 0 dropped/);
        expect(await nextLine()).toBe("ok 1501");
        expect(relay.exitCode).toBe(0);
      });
    }, 60_000);
  }
});

describe("a hostile or broken guest", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`stream fuzz (seed ${seed}): random splits, empty and short frames, then an impossible length; every whole frame before it arrives`, async () => {
      await withNetns(async (ns) => {
        await bridgeWithVeth(ns, 1500);
        const result = await run(relayCommand(ns, "stream", [process.execPath, RELAY_GUEST, "fuzz", "stream", String(seed)], true));
        // The relay closed the guest's connection, said why, and the launcher ended normally.
        expect(result.stdout).toContain("closed");
        expect(result.stderr).toMatch(
          /relay stopped, closing the guest's connection: the guest sent a frame length of \d+ bytes \(at most 69632\)/,
        );
        expect(result.exitCode).toBe(0);
        const toTap = /guest -> tap: (\d+) frames, \d+ bytes, (\d+) dropped/.exec(result.stderr);
        const sent = /^sent (\d+) frames$/m.exec(result.stdout);
        expect(Number(sent?.[1])).toBeGreaterThan(100);
        expect(Number(toTap?.[1])).toBe(Number(sent?.[1])); // also those read together with the bad length
        expect(Number(toTap?.[2])).toBeGreaterThan(0); // the empty and short frames
        expect(await ns.tapNames()).toEqual([]);
      });
    }, 60_000);
  }

  test("a flood into a guest that stops reading: memory stays flat, drops are counted, SIGUSR1 shows counters", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns, 1500);
      const relay = Bun.spawn(relayCommand(ns, "stream", ["sh", "-c", "echo ready; exec sleep 600"]), { stdout: "pipe", stderr: "pipe" });
      const stderr = new Response(relay.stderr).text();
      expect(await lineReader(relay.stdout)()).toBe("ready");
      const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${relay.pid}/status`, "latin1"))?.[1]);
      await ns.exec(process.execPath, PACKET_TOOL, "flood", "vB", "20000", "1514");
      const before = rss();
      await ns.exec(process.execPath, PACKET_TOOL, "flood", "vB", "200000", "1514");
      const after = rss();
      relay.kill("SIGUSR1");
      await Bun.sleep(300);
      relay.kill("SIGTERM");
      expect(await relay.exited).toBe(128 + 15);
      const log = await stderr;
      console.log(`flood of 200000 frames: launcher RSS ${before} kB -> ${after} kB\n${log}`);
      expect(after - before).toBeLessThan(8 * 1024); // 300 MB went by; the relay holds fixed buffers
      const counters = /tap -> guest: (\d+) frames.*queue high-water (\d+) bytes \(and (\d+) dropped by the kernel/.exec(log);
      expect(counters).not.toBeNull();
      expect(Number(counters?.[3])).toBeGreaterThan(100_000); // the kernel dropped what the guest would not take
      expect(Number(counters?.[2])).toBeLessThanOrEqual(BATCH * (1514 + 4)); // never more than one batch held
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 120_000);

  test("a TAP that is down refuses frames (counted as drops); the relay goes on", async () => {
    await withNetns(async (ns) => {
      await ns.exec("ip", "tuntap", "add", "dev", "tapdown", "mode", "tap");
      const result = await run([
        ...ns.prefix(),
        launcher,
        "--verbose",
        "--tap=tapdown",
        "--unmanaged",
        "--relay=stream",
        "--",
        process.execPath,
        RELAY_GUEST,
        "send-sweep",
        "stream",
        "14",
        "113",
        "1",
      ]);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).not.toMatch(/relay stopped|the relay failed/);
      expect(result.stderr).toMatch(/guest -> tap: 0 frames, 0 bytes, 100 dropped/);
    });
  }, 60_000);

  test("the TAP deleted while the guest is not reading: the relay notices at once and says so", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns, 1500);
      const relay = Bun.spawn(relayCommand(ns, "stream", ["sh", "-c", "echo ready; exec sleep 60"]), { stdout: "pipe", stderr: "pipe" });
      expect(await lineReader(relay.stdout)()).toBe("ready");
      // Fill the guest's socket so the relay holds a batch for it, then delete the TAP.
      await ns.exec(process.execPath, PACKET_TOOL, "flood", "vB", "5000", "1514");
      await ns.ip("link", "del", "tap0");
      const stderr = lineReader(relay.stderr);
      let line: string | null = "";
      while (line !== null && !line.includes("the TAP went away")) line = await stderr();
      expect(line).toMatch(/relay stopped, closing the guest's connection: the TAP went away \(read: EBADFD\)/);
      relay.kill("SIGTERM");
      await relay.exited;
    });
  }, 60_000);

  test("the TAP vanishing (ip link del) ends the relay with a clear message, and the guest sees the end", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns, 1500);
      const relay = Bun.spawn(relayCommand(ns, "stream", [process.execPath, RELAY_GUEST, "until-eof"]), { stdout: "pipe", stderr: "pipe" });
      const stderr = new Response(relay.stderr).text();
      const nextLine = lineReader(relay.stdout);
      expect(await nextLine()).toBe("up");
      await ns.ip("link", "del", "tap0");
      expect(await nextLine()).toBe("eof");
      expect(await relay.exited).toBe(0);
      expect(await stderr).toMatch(/relay stopped, closing the guest's connection: the TAP went away .*ip link del/);
    });
  }, 60_000);
});

describe("an unmanaged TAP as an earlier program may have left it", () => {
  const setup = join(import.meta.dir, "../support/tap-vnet-setup.ts");
  const unmanagedRelay = (ns: TestNetns, tap: string, guest: string[]): string[] => [
    ...ns.prefix(),
    launcher,
    `--tap=${tap}`,
    "--unmanaged",
    "--relay=stream",
    "--",
    ...guest,
  ];

  test("a 12-byte vnet header and offloads on: reset as QEMU resets them, and every frame arrives intact both ways", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns, 1500);
      await ns.exec("ip", "tuntap", "add", "dev", "tapu", "mode", "tap", "vnet_hdr");
      await ns.ip("link", "set", "tapu", "master", "br0", "up");
      await ns.exec(process.execPath, setup, "tapu", "12", String(TUN_F_CSUM | TUN_F_TSO4));
      expect((await ns.exec(process.execPath, setup, "tapu", "get")).trim()).toBe("12");

      const sweep = ["14", "1514", "1"];
      await sweepReachesGuest(ns, (guest) => unmanagedRelay(ns, "tapu", guest), "stream", sweep);
      expect((await ns.exec(process.execPath, setup, "tapu", "get")).trim()).toBe("10");
      await ns.exec(process.execPath, setup, "tapu", "12", String(TUN_F_CSUM | TUN_F_TSO4));
      await sweepReachesVeth(ns, (guest) => unmanagedRelay(ns, "tapu", guest), "stream", sweep);
    });
  }, 60_000);

  test("a TAP made with packet information (pi) is refused before the guest starts or a capture file is made", async () => {
    await withNetns(async (ns) => {
      await ns.exec("ip", "tuntap", "add", "dev", "tappi", "mode", "tap", "pi");
      const pcap = join(tempFolder("tl-pcap-"), "pi.pcap");
      const result = await run([
        ...ns.prefix(),
        launcher,
        "--tap=tappi",
        "--unmanaged",
        "--relay=stream",
        `--pcap=${pcap}`,
        "--",
        "sh",
        "-c",
        "echo started",
      ]);
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(
        "TAP tappi carries packet information (it was made with pi), which the relay does not move: it relays plain frames",
      );
      expect(existsSync(pcap)).toBe(false);
    });
  }, 60_000);
});
