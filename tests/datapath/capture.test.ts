// The relay's --pcap and --stats=json on the real kernel: every frame both ways in the file (tcpdump reads it),
// counts that match what was sent, the size bound under a flood, and a file that is never overwritten or followed.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAllowingBr0, tempFolder } from "../support/build.ts";
import { lineReader } from "../support/lines.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { sweepFrame, sweepSizes } from "../support/sweep.ts";
import { PACKET_TOOL, RELAY_GUEST } from "../support/tools.ts";

let launcher = "";
let helper = "";

beforeAll(async () => {
  ({ launcher, helper } = await buildAllowingBr0());
});

/**
 * br0 and a veth pair (vA its port, vB the far end tests send on), multicast off and no snooping:
 * otherwise br0 (and vB) send IGMP reports of their own when they come up, and counts are not exact.
 */
async function bridgeWithVeth(ns: TestNetns): Promise<void> {
  await ns.ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0");
  await ns.ip("link", "add", "vA", "type", "veth", "peer", "name", "vB");
  await ns.ip("link", "set", "vA", "master", "br0");
  for (const device of ["br0", "vA", "vB"]) await ns.ip("link", "set", device, "multicast", "off", "up");
}

function relayCommand(ns: TestNetns, mode: string, options: string[], guest: string[]): string[] {
  return [...ns.prefix(), launcher, "--br=br0", `--helper=${helper}`, `--relay=${mode}`, ...options, "--", ...guest];
}

interface PcapRecord {
  seconds: number;
  micros: number;
  frame: Uint8Array;
}

/** The records of a little-endian microsecond pcap file; fails on anything else, or a cut record. */
function readPcap(path: string): { snaplen: number; linkType: number; records: PcapRecord[] } {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0, true)).toBe(0xa1b2c3d4);
  expect([view.getUint16(4, true), view.getUint16(6, true)]).toEqual([2, 4]);
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < bytes.length) {
    expect(bytes.length - at).toBeGreaterThanOrEqual(16);
    const included = view.getUint32(at + 8, true);
    expect(view.getUint32(at + 12, true)).toBe(included);
    expect(at + 16 + included).toBeLessThanOrEqual(bytes.length);
    records.push({
      seconds: view.getUint32(at, true),
      micros: view.getUint32(at + 4, true),
      frame: bytes.subarray(at + 16, at + 16 + included),
    });
    at += 16 + included;
  }
  return { snaplen: view.getUint32(16, true), linkType: view.getUint32(20, true), records };
}

/** The JSON counter lines of a launcher's stderr: the lines that start with `{`, each parsed whole. */
function statsLines(stderr: string): { event: string; tap_to_guest: Record<string, unknown>; guest_to_tap: Record<string, unknown> }[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

/** tcpdump's lines that start a frame (a time stamp); the hex dumps of unknown ethertypes follow them. */
function frameLines(output: string): string[] {
  return output.split("\n").filter((line) => /^\d\d:\d\d:\d\d\.\d{6} /.test(line));
}

const sum = (sizes: number[]) => sizes.reduce((a, b) => a + b, 0);

for (const mode of ["stream", "dgram"] as const) {
  test(`--relay=${mode} --pcap --stats=json: 100 frames in, 50 out; the JSON counts them per direction and the file holds each, in order`, async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns);
      const file = join(tempFolder("tl-pcap-"), "relay.pcap");
      const guest = [
        "sh",
        "-c",
        `"$0" ${RELAY_GUEST} recv-sweep ${mode} 14 113 1 10000 && exec "$0" ${RELAY_GUEST} send-sweep ${mode} 14 63 1`,
        process.execPath,
      ];
      const relay = Bun.spawn(relayCommand(ns, mode, [`--pcap=${file}`, "--stats=json"], guest), { stdout: "pipe", stderr: "pipe" });
      const stderr = new Response(relay.stderr).text();
      const nextLine = lineReader(relay.stdout);
      expect(await nextLine()).toBe("ready");
      const started = Date.now() / 1000;
      await ns.exec(process.execPath, PACKET_TOOL, "send-sweep", "vB", "14", "113", "1");
      expect(await nextLine()).toBe("ok 100");
      expect(await relay.exited).toBe(0);
      const log = await stderr;
      // Exactly one JSON line (at exit), parseable as it stands, and no other line mentions counters.
      const stats = statsLines(log);
      expect(stats).toHaveLength(1);
      expect(stats[0]).toEqual({
        event: "exit",
        tap_to_guest: {
          frames: 100,
          bytes: sum(sweepSizes(14, 113, 1)),
          drops: { short: 0, too_long: 0, gso: 0, refused: 0, kernel: 0 },
          queue_high_water: expect.any(Number),
        },
        guest_to_tap: {
          frames: 50,
          bytes: sum(sweepSizes(14, 63, 1)),
          drops: { short: 0, too_long: 0, gso: 0, refused: 0 },
          queue_high_water: expect.any(Number),
        },
      });
      expect(log).not.toContain("tap -> guest");

      const { snaplen, linkType, records } = readPcap(file);
      expect(linkType).toBe(1);
      expect(snaplen).toBeGreaterThanOrEqual(65535);
      const expected = [
        ...sweepSizes(14, 113, 1).map((size) => sweepFrame(size, 0x0b)),
        ...sweepSizes(14, 63, 1).map((size) => sweepFrame(size, 0x0a)),
      ];
      expect(records.map((r) => Buffer.from(r.frame).toString("hex"))).toEqual(expected.map((frame) => Buffer.from(frame).toString("hex")));
      for (const { seconds, micros } of records) {
        expect(micros).toBeLessThan(1_000_000);
        expect(Math.abs(seconds + micros / 1e6 - started)).toBeLessThan(30);
      }
      // Real tcpdump reads the whole file, one line per frame, and complains about nothing.
      const dump = await run(["tcpdump", "-r", file, "-n", "-e"]);
      expect(dump.exitCode).toBe(0);
      expect(dump.stderr).not.toMatch(/truncated|error|warning/i);
      expect(frameLines(dump.stdout)).toHaveLength(150);
      expect(dump.stdout).toContain("02:00:00:00:00:0b > ff:ff:ff:ff:ff:ff");
      expect(dump.stdout).toContain("02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff");
      expect(statSync(file).mode & 0o777).toBe(0o600);
    });
  }, 60_000);
}

test("the size bound holds under a flood: the file stops at the last whole frame below --pcap-size, said once; SIGUSR1 prints one JSON line", async () => {
  await withNetns(async (ns) => {
    await bridgeWithVeth(ns);
    const file = join(tempFolder("tl-pcap-"), "flood.pcap");
    const bound = 1024 * 1024;
    const relay = Bun.spawn(
      relayCommand(ns, "stream", [`--pcap=${file}`, "--pcap-size=1M", "--stats=json"], [process.execPath, RELAY_GUEST, "until-eof"]),
      { stdout: "pipe", stderr: "pipe" },
    );
    const stderr = new Response(relay.stderr).text();
    expect(await lineReader(relay.stdout)()).toBe("up");
    await ns.exec(process.execPath, PACKET_TOOL, "flood", "vB", "20000", "1514");
    await Bun.sleep(300);
    relay.kill("SIGUSR1");
    await Bun.sleep(300);
    relay.kill("SIGTERM");
    expect(await relay.exited).toBe(128 + 15);
    const log = await stderr;
    const size = statSync(file).size;
    const record = 16 + 1514;
    console.log(`flood of 20000 frames of 1514 bytes with --pcap-size=1M: the file holds ${size} bytes (${(size - 24) / record} frames)`);
    expect(size).toBeLessThanOrEqual(bound);
    expect(size).toBeGreaterThan(bound - record); // stopped at the bound, not before
    expect((size - 24) % record).toBe(0); // whole records only
    expect(log.match(/capture stopped at the size bound/g)).toHaveLength(1);
    expect(log).toContain(
      `tap-launcher: warning: capture stopped at the size bound: ${file} holds ${size} bytes and --pcap-size is ${bound}; the relay goes on`,
    );
    const stats = statsLines(log);
    expect(stats.map((line) => line.event)).toEqual(["signal", "exit"]);
    expect(Number(stats[0]?.tap_to_guest.frames)).toBeGreaterThan((size - 24) / record); // the relay went on past the bound
    const dump = await run(["tcpdump", "-r", file, "-n"]);
    expect(dump.exitCode).toBe(0);
    expect(frameLines(dump.stdout)).toHaveLength((size - 24) / record);
  });
}, 60_000);

describe("the capture file is made new, mode 0600, never over what is there", () => {
  for (const [label, prepare] of [
    [
      "an existing file",
      (path: string, target: string) => {
        writeFileSync(path, "keep me\n");
        void target;
      },
    ],
    [
      "a symbolic link to a file",
      (path: string, target: string) => {
        writeFileSync(target, "keep me\n");
        symlinkSync(target, path);
      },
    ],
    ["a dangling symbolic link", (path: string, target: string) => symlinkSync(target, path)],
  ] as const) {
    test(`${label} at FILE: refused with the fix, nothing written, no guest, no TAP left`, async () => {
      await withNetns(async (ns) => {
        await bridgeWithVeth(ns);
        const folder = tempFolder("tl-pcap-");
        const path = join(folder, "capture.pcap");
        const target = join(folder, "target");
        prepare(path, target);
        const before = existsSync(target) ? readFileSync(target, "utf8") : null;
        const guestRan = join(folder, "guest-ran");
        const result = await run(relayCommand(ns, "stream", [`--pcap=${path}`], ["sh", "-c", `touch ${guestRan}`]));
        expect(result.exitCode).toBe(1);
        const kind = label === "an existing file" ? "a file" : "a symbolic link";
        expect(result.stderr).toContain(
          `tap-launcher: failed to create capture file ${path}: it already exists (${kind}), and a capture neither overwrites nor follows one\n`,
        );
        expect(result.stderr).toContain("give --pcap a new name, or remove the old file first");
        expect(existsSync(guestRan)).toBe(false);
        expect(existsSync(target) ? readFileSync(target, "utf8") : null).toBe(before);
        if (label === "an existing file") expect(readFileSync(path, "utf8")).toBe("keep me\n");
        else expect(lstatSync(path).isSymbolicLink()).toBe(true);
        expect(await ns.tapNames()).toEqual([]);
      });
    }, 60_000);
  }

  test("a guest that cannot start leaves no capture file: one not found is refused before any TAP, one the kernel cannot execute after", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns);
      const folder = tempFolder("tl-pcap-");
      const path = join(folder, "never.pcap");
      const missing = await run(relayCommand(ns, "stream", [`--pcap=${path}`], ["no-such-guest-command"]));
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toContain('tap-launcher: failed to start the guest "no-such-guest-command": ENOENT');
      expect(missing.stderr).not.toContain("relaying"); // refused before the helper ran
      expect(existsSync(path)).toBe(false);

      const garbage = join(folder, "not-a-program");
      writeFileSync(garbage, "\x7fELF garbage", { mode: 0o755 });
      const unexecutable = await run(relayCommand(ns, "stream", [`--pcap=${path}`], [garbage]));
      expect(unexecutable.exitCode).toBe(127);
      expect(unexecutable.stderr).toContain(`tap-launcher: failed to start the guest ${JSON.stringify(garbage)}: ENOEXEC`);
      expect(existsSync(path)).toBe(false);
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 60_000);

  test("made 0600 even under umask 000; a missing folder is refused with the reason", async () => {
    await withNetns(async (ns) => {
      await bridgeWithVeth(ns);
      const folder = tempFolder("tl-pcap-");
      const path = join(folder, "new.pcap");
      const made = await run(["sh", "-c", 'umask 000 && exec "$@"', "sh", ...relayCommand(ns, "dgram", [`--pcap=${path}`], ["true"])]);
      expect(made.exitCode).toBe(0);
      expect(statSync(path).mode & 0o7777).toBe(0o600);
      expect(statSync(path).size).toBe(24); // the header alone: nothing was relayed
      const missing = join(folder, "no-such-folder", "x.pcap");
      const refused = await run(relayCommand(ns, "dgram", [`--pcap=${missing}`], ["true"]));
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`tap-launcher: failed to create capture file ${missing}: No such file or directory (ENOENT)`);
    });
  }, 60_000);
});
