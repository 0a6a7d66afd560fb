// Security review of `locked` and `ip=`: a frame the bridge and the filter passed must not leave with other addresses, whatever its virtio-net header asks the kernel to write into it later (fails while it does).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { IFF_VNET_HDR } from "../../shared/kernel.ts";
import { POLLIN, TUN_F_CSUM, TUNGETIFF, TUNSETOFFLOAD, TUNSETVNETHDRSZ } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl, pollOneOrErrno, readOrErrno, writeOrErrno } from "../../shared/libc.ts";
import { testAccounts } from "../support/accounts.ts";
import { type HelperOutcome, runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { privateDevPrefix } from "../support/syslog-sink.ts";
import { ALICE, asUser, BOB, type TestUser, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
}, 120_000);
afterAll(() => installed.uninstall());

const GUEST = [0x52, 0x54, 0, 0, 0, 0x0a];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
/** struct virtio_net_hdr without num_buffers, the header QEMU sets with TUNSETVNETHDRSZ when it has no mergeable buffers. */
const VNET_HEADER_BYTES = 10;
const REATTACH = join(import.meta.dir, "../support/vnet-reattach.ts");

/** The helper as `user` in `ns`, the way QEMU runs it, with extra arguments. */
function helper(ns: TestNetns, user: TestUser, extra: string[]): Promise<HelperOutcome> {
  return runHelper([
    ...ns.prefix(),
    ...privateEtcPrefix(testAccounts()),
    ...privateDevPrefix(null),
    ...asUser(user),
    installed.shim,
    ...extra,
    "--fd=3",
    "--br=br0",
  ]);
}

/**
 * Runs `body` on br0 under `policy` with alice's TAP (the helper run with `guestArgs`: `fd` its first
 * queue, `fds` all) and bob's TAP without offloads as `neighbour`, which sees what the guest sends;
 * closes what is left in `fds` and the neighbour's fd, and sets the policy back.
 */
async function withGuestAndNeighbour(
  policy: string,
  guestArgs: string[],
  body: (guest: { fd: number; fds: number[] }, neighbour: number, ns: TestNetns) => Promise<void>,
): Promise<void> {
  installed.setPolicy(policy);
  try {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const guest = await helper(ns, ALICE, guestArgs);
      // Without offloads: the kernel computes any pending checksum before it hands a frame over.
      const neighbour = await helper(ns, BOB, []);
      try {
        if (guest.fd === null || neighbour.fd === null) throw new Error(`no TAP: ${guest.stderr} ${neighbour.stderr}`);
        await body({ fd: guest.fd, fds: guest.fds }, neighbour.fd, ns);
      } finally {
        for (const fd of [...guest.fds, neighbour.fd]) if (fd !== null) closeFd(fd);
      }
    });
  } finally {
    installed.setPolicy(null);
  }
}

/** The 16-bit ones' complement sum of `bytes` from `from` to the end, as big-endian words. */
function onesSum(bytes: number[], from: number): number {
  let sum = 0;
  for (let i = from; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * A broadcast ARP reply from the guest's own MAC and its own address 10.9.0.66, whose virtio-net
 * header asks for a "checksum" (VIRTIO_NET_HDR_F_NEEDS_CSUM) over bytes 30.. stored at byte 30: the
 * low half of the sender address. A padding word makes that sum come out as 0x00fe, so once a port
 * computes it in software the sender reads 10.9.0.254, the router's address.
 */
function rewrittenArp(): number[] {
  const frame = [
    ...BROADCAST,
    ...GUEST,
    0x08,
    0x06,
    ...[0, 1, 8, 0, 6, 4, 0, 2],
    ...GUEST,
    ...[10, 9, 0, 66],
    ...BROADCAST,
    ...[10, 9, 0, 254],
  ];
  while (frame.length < 60) frame.push(0);
  // csum_fold stores ~sum: pick the word at 42 (an even distance from 30) so that ~sum == 0x00fe.
  const want = 0xffff - 0x00fe;
  let word = want + (0xffff - onesSum(frame, 30));
  while (word > 0xffff) word = (word & 0xffff) + (word >>> 16);
  frame[42] = word >> 8;
  frame[43] = word & 0xff;
  // struct virtio_net_hdr (little-endian): flags NEEDS_CSUM, gso_type NONE, hdr_len 0, gso_size 0, csum_start 30, csum_offset 0.
  return [1, 0, 0, 0, 0, 0, 30, 0, 0, 0, ...frame];
}

/** The name of the TAP behind `fd` and whether it carries the virtio-net header (TUNGETIFF). */
function tapOf(fd: number): { name: string; vnetHeader: boolean } {
  const ifreq = new Uint8Array(40);
  ioctl(fd, TUNGETIFF, "TUNGETIFF", ifreq);
  const name = Buffer.from(ifreq.subarray(0, 16)).toString().replace(/\0.*$/s, "");
  return { name, vnetHeader: (new DataView(ifreq.buffer).getUint16(16, true) & IFF_VNET_HDR) !== 0 };
}

/** What `pick` makes of each frame that reaches `fd` within `ms` (null: left out). */
function framesSeen(fd: number, ms: number, pick: (frame: Uint8Array) => string | null): string[] {
  const picked: string[] = [];
  const buffer = new Uint8Array(70000);
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (pollOneOrErrno(fd, POLLIN, 100) <= 0) continue;
    const what = pick(buffer.subarray(0, readOrErrno(fd, buffer)));
    if (what !== null) picked.push(what);
  }
  return picked;
}

/** The ARP senders of frames from the guest's MAC that reach `fd` within 1.5 s. */
function arpSendersSeen(fd: number): string[] {
  return framesSeen(fd, 1500, (got) =>
    got.length >= 42 && got[12] === 0x08 && got[13] === 0x06 && got.subarray(6, 12).every((byte, i) => byte === GUEST[i])
      ? [...got.subarray(28, 32)].join(".")
      : null,
  );
}

test("review: under `locked ip=`, a checksum the virtio-net header asks for cannot rewrite an ARP sender the filter passed", async () => {
  await withGuestAndNeighbour(
    "alice br0 1 locked ip=10.9.0.64/28\nbob br0 1\n",
    ["--use-vnet", "--mac=52:54:00:00:00:0a"],
    async (guest, neighbour) => {
      // The guest writes what its TAP takes: the header and the frame when the TAP has one (as QEMU
      // finds out with TUNGETIFF), the frame alone when it has none and cannot ask for a checksum.
      const frame = tapOf(guest.fd).vnetHeader ? rewrittenArp() : rewrittenArp().slice(VNET_HEADER_BYTES);
      expect(writeOrErrno(guest.fd, Uint8Array.from(frame))).toBe(frame.length);
      // The frame reached the neighbour (the filter passed it), and only with the sender the filter saw.
      expect(arpSendersSeen(neighbour)).toEqual(["10.9.0.66"]);
    },
  );
}, 120_000);

test("review: the holder of a TAP under `locked ip=` cannot turn its virtio-net header on through its fd (header size, offloads)", async () => {
  await withGuestAndNeighbour(
    "alice br0 1 locked ip=10.9.0.64/28\nbob br0 1\n",
    ["--use-vnet", "--mac=52:54:00:00:00:0a"],
    async (guest, neighbour) => {
      // What QEMU does with a vnet-header TAP, asking for no privilege: a header size and offloads.
      const size = Int32Array.of(VNET_HEADER_BYTES);
      ioctl(guest.fd, TUNSETVNETHDRSZ, "TUNSETVNETHDRSZ", new Uint8Array(size.buffer));
      ioctl(guest.fd, TUNSETOFFLOAD, "TUNSETOFFLOAD", TUN_F_CSUM);
      const frame = rewrittenArp();
      expect({ vnetHeader: tapOf(guest.fd).vnetHeader, written: writeOrErrno(guest.fd, Uint8Array.from(frame)) }).toEqual({
        vnetHeader: false,
        written: frame.length,
      });
      // Read as a frame, the header's bytes are its destination and the start of its source: not the registered MAC.
      expect(arpSendersSeen(neighbour)).toEqual([]);
    },
  );
}, 120_000);

test("under `ip=`, every queue of a multiqueue TAP comes without the virtio-net header, and none can have a sender rewritten", async () => {
  await withGuestAndNeighbour(
    "alice br0 1 locked ip=10.9.0.64/28 queues=4\nbob br0 1\n",
    ["--use-vnet", "--queues=3", "--mac=52:54:00:00:00:0a"],
    async (guest, neighbour) => {
      expect(guest.fds.length).toBe(3);
      expect(guest.fds.map((fd) => tapOf(fd).vnetHeader)).toEqual([false, false, false]);
      const last = guest.fds[2] ?? -1;
      const frame = tapOf(last).vnetHeader ? rewrittenArp() : rewrittenArp().slice(VNET_HEADER_BYTES);
      expect(writeOrErrno(last, Uint8Array.from(frame))).toBe(frame.length);
      expect(arpSendersSeen(neighbour)).toEqual(["10.9.0.66"]);
    },
  );
}, 120_000);

/**
 * A limit the kernel sets, stated in docs/anti-spoofing.md ("What they do not stop"): whoever holds the
 * fd may make the TAP persistent, close it, and attach it again as its owner with IFF_VNET_HDR; the
 * checksum request then rewrites the ARP sender after the filter. This asserts that it still works, so
 * that the documentation says no less than the kernel allows: if it fails, the kernel closed the way,
 * and the documentation should say so.
 */
test("limit: the holder of a TAP under `locked ip=` can turn the header on again by making the TAP persistent and attaching it anew", async () => {
  await withGuestAndNeighbour(
    "alice br0 1 locked ip=10.9.0.64/28\nbob br0 1\n",
    ["--use-vnet", "--mac=52:54:00:00:00:0a"],
    async (guest, neighbour, ns) => {
      const { name, vnetHeader } = tapOf(guest.fd);
      expect(vnetHeader).toBe(false);
      // As alice, holding the only fd: TUNSETPERSIST, close, TUNSETIFF with IFF_VNET_HDR, write.
      const reattach = Bun.spawn({
        cmd: [
          ...ns.prefix(),
          ...withOpenTunDevice(),
          ...asUser(ALICE),
          process.execPath,
          REATTACH,
          name,
          Buffer.from(rewrittenArp()).toString("hex"),
        ],
        stdio: ["ignore", "pipe", "pipe", guest.fd],
      });
      // Taken out of the fds closed after the test: the child holds the only other one.
      for (const fd of guest.fds.splice(0)) closeFd(fd);
      const [said, stderr] = await Promise.all([new Response(reattach.stdout).text(), new Response(reattach.stderr).text()]);
      await reattach.exited;
      expect({ said: said.trim(), stderr, senders: arpSendersSeen(neighbour) }).toEqual({
        said: JSON.stringify({ attached: "attached", vnetHeader: true, written: rewrittenArp().length }),
        stderr: "",
        senders: ["10.9.0.254"],
      });
      // The TAP is persistent now: it goes with the namespace, and sooner here.
      for (const tap of await ns.tapNames()) await ns.ip("link", "del", tap);
    },
  );
}, 120_000);

/**
 * A frame of a local EtherType from the guest's registered MAC whose virtio-net header asks for a
 * "checksum" stored at bytes 10-11, the low half of the source MAC: a padding word makes it 0x000b,
 * so once computed the frame comes from 52:54:00:00:00:0b, another guest's address.
 */
function rewrittenSource(): number[] {
  const frame = [...BROADCAST, ...GUEST, 0x88, 0xb5, ...Buffer.from("review")];
  while (frame.length < 60) frame.push(0);
  const want = 0xffff - 0x000b;
  frame[40] = 0;
  frame[41] = 0;
  let word = want + (0xffff - onesSum(frame, 10));
  while (word > 0xffff) word = (word & 0xffff) + (word >>> 16);
  frame[40] = word >> 8;
  frame[41] = word & 0xff;
  return [1, 0, 0, 0, 0, 0, 10, 0, 0, 0, ...frame];
}

test("review: under `locked`, a checksum the virtio-net header asks for cannot rewrite the source MAC the bridge checked", async () => {
  await withGuestAndNeighbour("alice br0 1 locked\nbob br0 1\n", ["--use-vnet", "--mac=52:54:00:00:00:0a"], async (guest, neighbour) => {
    // As above: the header only when the TAP has one.
    const frame = tapOf(guest.fd).vnetHeader ? rewrittenSource() : rewrittenSource().slice(VNET_HEADER_BYTES);
    // This kernel (6.18) refuses a checksum start inside the Ethernet header (EINVAL): then nothing can be rewritten there.
    const written = writeOrErrno(guest.fd, Uint8Array.from(frame));
    expect([frame.length, -22]).toContain(written);
    const sources = framesSeen(neighbour, 1500, (got) =>
      got.length >= 20 && got[12] === 0x88 && got[13] === 0xb5 && Buffer.from(got.subarray(14, 20)).toString() === "review"
        ? Buffer.from(got.subarray(6, 12)).toString("hex")
        : null,
    );
    expect(sources).toEqual(written === frame.length ? ["52540000000a"] : []);
  });
}, 120_000);

/**
 * An 802.1Q-tagged frame from the guest's registered MAC whose virtio-net header asks for a checksum
 * from byte `start` of the frame, stored there. The kernel takes the tag out before the bridge sees the
 * frame by moving both addresses 4 bytes on, and the checksum's place (kept from the start of the
 * buffer) then lies 4 bytes earlier in the frame: from 14, the last two bytes of the source MAC, where
 * a padding word makes the sum 0x000b; from 15 to 19, the last byte of the source MAC or what follows.
 */
function taggedRewrittenSource(start: number): number[] {
  const tagged = [...BROADCAST, ...GUEST, 0x81, 0x00, 0x00, 0x05, 0x88, 0xb5, ...Buffer.from("review")];
  while (tagged.length < 64) tagged.push(0);
  // The frame as the bridge forwards it, untagged: from 14, the sum runs from its byte 10.
  const untagged = [...tagged.slice(0, 12), ...tagged.slice(16)];
  const want = 0xffff - 0x000b;
  let word = want + (0xffff - onesSum(untagged, 10));
  while (word > 0xffff) word = (word & 0xffff) + (word >>> 16);
  // Byte 40 of the untagged frame (an even distance from 10) is byte 44 of the tagged one.
  tagged[44] = word >> 8;
  tagged[45] = word & 0xff;
  return [1, 0, 0, 0, 0, 0, start, 0, 0, 0, ...tagged];
}

test("review: under `locked`, a checksum that starts at a VLAN tag cannot rewrite the source MAC once the kernel takes the tag out", async () => {
  await withGuestAndNeighbour("alice br0 1 locked\nbob br0 1\n", ["--use-vnet", "--mac=52:54:00:00:00:0a"], async (guest, neighbour) => {
    const vnetHeader = tapOf(guest.fd).vnetHeader;
    const outcomes: { start: number; written: number; sources: string[] }[] = [];
    for (let start = 14; start < 20; start += 1) {
      const frame = vnetHeader ? taggedRewrittenSource(start) : taggedRewrittenSource(start).slice(VNET_HEADER_BYTES);
      const written = writeOrErrno(guest.fd, Uint8Array.from(frame));
      const sources = framesSeen(neighbour, 500, (got) =>
        Buffer.from(got).includes(Buffer.from("review")) ? Buffer.from(got.subarray(6, 12)).toString("hex") : null,
      );
      outcomes.push({ start, written: written === frame.length ? 0 : written, sources });
    }
    // Refused (EINVAL), or forwarded from the registered MAC only.
    expect(outcomes).toEqual(outcomes.map(({ start, written }) => ({ start, written, sources: written === 0 ? ["52540000000a"] : [] })));
    expect(outcomes.every(({ written }) => written === 0 || written === -22)).toBe(true);
  });
}, 120_000);
