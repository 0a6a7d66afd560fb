// Security review of `locked` and `ip=`: a frame the bridge and the filter passed must not leave with other addresses, whatever its virtio-net header asks the kernel to write into it later (fails while it does).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { POLLIN } from "../../shared/kernel-launcher.ts";
import { closeFd, pollOneOrErrno, readOrErrno, writeOrErrno } from "../../shared/libc.ts";
import { testAccounts } from "../support/accounts.ts";
import { type HelperOutcome, runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { privateDevPrefix } from "../support/syslog-sink.ts";
import { ALICE, asUser, BOB, type TestUser } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
}, 120_000);
afterAll(() => installed.uninstall());

const GUEST = [0x52, 0x54, 0, 0, 0, 0x0a];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

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

test("review: under `locked ip=`, a checksum the virtio-net header asks for cannot rewrite an ARP sender the filter passed", async () => {
  installed.setPolicy("alice br0 1 locked ip=10.9.0.64/28\nbob br0 1\n");
  try {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const guest = await helper(ns, ALICE, ["--use-vnet", "--mac=52:54:00:00:00:0a"]);
      // A neighbour's TAP without offloads: the kernel computes any pending checksum before it hands a frame over.
      const neighbour = await helper(ns, BOB, []);
      try {
        if (guest.fd === null || neighbour.fd === null) throw new Error(`no TAP: ${guest.stderr} ${neighbour.stderr}`);
        const frame = rewrittenArp();
        expect(writeOrErrno(guest.fd, Uint8Array.from(frame))).toBe(frame.length);
        const senders: string[] = [];
        const buffer = new Uint8Array(70000);
        for (const until = Date.now() + 1500; Date.now() < until; ) {
          if (pollOneOrErrno(neighbour.fd, POLLIN, 100) <= 0) continue;
          const n = readOrErrno(neighbour.fd, buffer);
          const got = buffer.subarray(0, n);
          if (n >= 42 && got[12] === 0x08 && got[13] === 0x06 && got.subarray(6, 12).every((byte, i) => byte === GUEST[i])) {
            senders.push([...got.subarray(28, 32)].join("."));
          }
        }
        // The frame reached the neighbour (the filter passed it), and only with the sender the filter saw.
        expect(senders).toEqual(["10.9.0.66"]);
      } finally {
        for (const fd of [guest.fd, neighbour.fd]) if (fd !== null) closeFd(fd);
      }
    });
  } finally {
    installed.setPolicy(null);
  }
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
  installed.setPolicy("alice br0 1 locked\nbob br0 1\n");
  try {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const guest = await helper(ns, ALICE, ["--use-vnet", "--mac=52:54:00:00:00:0a"]);
      const neighbour = await helper(ns, BOB, []);
      try {
        if (guest.fd === null || neighbour.fd === null) throw new Error(`no TAP: ${guest.stderr} ${neighbour.stderr}`);
        const frame = rewrittenSource();
        // This kernel (6.18) refuses a checksum start inside the Ethernet header (EINVAL): then nothing can be rewritten there.
        const written = writeOrErrno(guest.fd, Uint8Array.from(frame));
        expect([frame.length, -22]).toContain(written);
        const sources: string[] = [];
        const buffer = new Uint8Array(70000);
        for (const until = Date.now() + 1500; Date.now() < until; ) {
          if (pollOneOrErrno(neighbour.fd, POLLIN, 100) <= 0) continue;
          const n = readOrErrno(neighbour.fd, buffer);
          const got = buffer.subarray(0, n);
          if (n >= 20 && got[12] === 0x88 && got[13] === 0xb5 && Buffer.from(got.subarray(14, 20)).toString() === "review") {
            sources.push(Buffer.from(got.subarray(6, 12)).toString("hex"));
          }
        }
        expect(sources).toEqual(written === frame.length ? ["52540000000a"] : []);
      } finally {
        for (const fd of [guest.fd, neighbour.fd]) if (fd !== null) closeFd(fd);
      }
    });
  } finally {
    installed.setPolicy(null);
  }
}, 120_000);
