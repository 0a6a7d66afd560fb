// What a TAP without the virtio-net header costs a sender, as `ip=` makes it: TCP frames written into a filtered TAP on a bridge, bytes out of a veth port.
//   bun tests/bench/offload-cost.ts [SECONDS] [ROUNDS]   (as root) prints one JSON object of Gbit/s per way, rounds alternating
// Ways: MTU-sized frames without the header (what QEMU sends under `ip=`), the same with the header,
// and 64 KB TCP segments with the header asking the kernel to segment them (TSO, what a guest sends with offloads).
// The writer is one process in a loop, not a guest: it measures the host's side of the datapath only.
import { readFileSync } from "node:fs";
import { parsePrefixList } from "../../policy/address-prefix.ts";
import { IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from "../../shared/kernel.ts";
import { closeFd, writeOrErrno } from "../../shared/libc.ts";
import { guestIngressProgram } from "../../shared/port-filter.ts";
import { attachPortFilters } from "../../shared/port-guard.ts";
import { attachNewTap, openTunDevice } from "../../shared/tap.ts";
import { withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";

type Way = "mtu-plain" | "mtu-vnet" | "tso-vnet";
const WAYS: Way[] = ["mtu-plain", "mtu-vnet", "tso-vnet"];

/** An Ethernet, IPv4 (valid header checksum) and TCP frame from 10.79.0.2 carrying `payload` bytes. */
function tcpFrame(payload: number): Uint8Array {
  const frame = new Uint8Array(54 + payload);
  frame.set([0x02, 0, 0, 0, 0, 0xfe, 0x52, 0x54, 0, 0, 0, 0x0a, 0x08, 0x00], 0);
  const length = 40 + payload;
  frame.set([0x45, 0, length >> 8, length & 0xff, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 79, 0, 2, 10, 79, 0, 254], 14);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += ((frame[i] ?? 0) << 8) | (frame[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  frame[24] = (~sum >> 8) & 0xff;
  frame[25] = ~sum & 0xff;
  frame.set([0x9c, 0x40, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff], 34);
  return frame;
}

/** struct virtio_net_hdr (10 bytes, little-endian) in front of `frame`: plain, or TSO over IPv4 with the checksum left to the kernel. */
function withHeader(frame: Uint8Array, tso: boolean): Uint8Array {
  const out = new Uint8Array(10 + frame.length);
  const view = new DataView(out.buffer);
  if (tso) {
    view.setUint8(0, 1); // VIRTIO_NET_HDR_F_NEEDS_CSUM
    view.setUint8(1, 1); // VIRTIO_NET_HDR_GSO_TCPV4
    view.setUint16(2, 54, true); // hdr_len
    view.setUint16(4, 1448, true); // gso_size
    view.setUint16(6, 34, true); // csum_start
    view.setUint16(8, 16, true); // csum_offset
  }
  out.set(frame, 10);
  return out;
}

/** Inside the bench namespace: one TAP per way, written for `seconds`; Gbit/s that left through the veth. */
async function measure(way: Way, seconds: number): Promise<number> {
  const fd = openTunDevice();
  try {
    const name = attachNewTap(fd, "bench%d", IFF_TAP | IFF_NO_PI | (way === "mtu-plain" ? 0 : IFF_VNET_HDR));
    await run(["ip", "link", "set", name, "master", "br0", "up"]);
    const index = Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8"));
    const prefixes = parsePrefixList("10.79.0.0/24");
    if (typeof prefixes === "string") throw new Error(prefixes);
    attachPortFilters(index, { ingress: guestIngressProgram(prefixes), egress: null });
    const frame =
      way === "tso-vnet" ? withHeader(tcpFrame(64000), true) : way === "mtu-vnet" ? withHeader(tcpFrame(1460), false) : tcpFrame(1460);
    const counter = "/sys/class/net/up1/statistics/rx_bytes";
    const before = Number(readFileSync(counter, "utf8"));
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const written = writeOrErrno(fd, frame);
      if (written !== frame.length) throw new Error(`${way}: write returned ${written}`);
    }
    const elapsed = (performance.now() - started) / 1000;
    return ((Number(readFileSync(counter, "utf8")) - before) * 8) / elapsed / 1e9;
  } finally {
    closeFd(fd);
  }
}

const [secondsText = "3", roundsText = "3", inner = ""] = process.argv.slice(2);
if (inner === "--inner") {
  const figures: Record<string, number> = {};
  for (const way of WAYS) figures[way] = await measure(way, Number(secondsText));
  console.log(JSON.stringify(figures));
} else {
  const figures: Record<Way, number[]> = { "mtu-plain": [], "mtu-vnet": [], "tso-vnet": [] };
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    await ns.exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0");
    await ns.ip("link", "add", "up0", "type", "veth", "peer", "name", "up1");
    await ns.ip("link", "set", "up0", "master", "br0", "up");
    await ns.ip("link", "set", "up1", "up");
    for (let round = 0; round < Number(roundsText); round += 1) {
      const result = await run([...ns.prefix(), process.execPath, import.meta.path, secondsText, roundsText, "--inner"]);
      if (result.exitCode !== 0) throw new Error(result.stderr);
      const got = JSON.parse(result.stdout) as Record<Way, number>;
      for (const way of WAYS) figures[way].push(Number(got[way].toFixed(2)));
    }
  });
  console.log(JSON.stringify(figures));
}
