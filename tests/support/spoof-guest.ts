// A scripted guest on a TAP at fd 3 (from the helper, or handed over by the launcher): a tiny IPv4 host that can also lie.
//   spoof-guest.ts JSON   runs the plan in JSON (see Plan) for plan.seconds, then prints one JSON line (see Report)
// It answers ARP for its address and pings to it, pings a target, takes an address by DHCP, and, as an
// attacker, sends frames with another source MAC, ARP claims for addresses not its own, or pings from
// a foreign source; it counts the IPv4 frames it receives that are for other addresses.
import { setIfreqMac } from "../../shared/ifreq.ts";
import { IFF_VNET_HDR, SIOCSIFHWADDR } from "../../shared/kernel.ts";
import { POLLIN, TUNGETIFF, TUNGETVNETHDRSZ } from "../../shared/kernel-launcher.ts";
import { ioctl, pollOneOrErrno, readOrErrno, writeOrErrno } from "../../shared/libc.ts";

interface Plan {
  mac: string;
  /** The guest's address, or "dhcp" to take one from a DHCP server first. */
  ip: string;
  seconds: number;
  /** Echo requests to `target`, one per `intervalMs`, from `sourceIp` (default: the guest's address). */
  ping?: { target: string; count: number; intervalMs: number; targetMac?: string; sourceIp?: string };
  /** Frames with this source MAC, every 50 ms (stealing the address from the bridge's table): UDP broadcasts from the guest's own address. */
  spoofSourceMac?: string;
  /** ARP replies every 100 ms saying that `ip` is at the guest's MAC, broadcast or to `toMac`/`toIp`. */
  arpClaim?: { ip: string; toMac?: string; toIp?: string };
  /** Sets the TAP device's own MAC through the fd first (SIOCSIFHWADDR, which asks the holder for no privilege). */
  tapMac?: string;
}

interface Report {
  ip: string | null;
  echoReplies: number;
  echoRequestsAnswered: number;
  /** IPv4 frames received whose destination is another address, by that address. */
  othersFrames: Record<string, number>;
  sent: number;
}

const plan = JSON.parse(process.argv[2] ?? "{}") as Plan;
const FD = 3;
const macBytes = (text: string): number[] => text.split(":").map((part) => Number.parseInt(part, 16));
const ipBytes = (text: string): number[] => text.split(".").map(Number);
const ipText = (bytes: Uint8Array, at: number): string => Array.from(bytes.subarray(at, at + 4)).join(".");
const macText = (bytes: Uint8Array, at: number): string =>
  Array.from(bytes.subarray(at, at + 6), (byte) => byte.toString(16).padStart(2, "0")).join(":");

// A vnet-header TAP (the launcher asks the helper for one) prefixes each frame with a header.
const ifreq = new Uint8Array(40);
ioctl(FD, TUNGETIFF, "TUNGETIFF", ifreq);
let headerBytes = 0;
if ((new DataView(ifreq.buffer).getUint16(16, true) & IFF_VNET_HDR) !== 0) {
  const size = new Int32Array(1);
  ioctl(FD, TUNGETVNETHDRSZ, "TUNGETVNETHDRSZ", new Uint8Array(size.buffer));
  headerBytes = size[0] ?? 10;
}

if (plan.tapMac !== undefined) {
  const request = new Uint8Array(40);
  setIfreqMac(request, 1 /* ARPHRD_ETHER */, Uint8Array.from(macBytes(plan.tapMac)));
  ioctl(FD, SIOCSIFHWADDR, "SIOCSIFHWADDR", request);
}
const own = macBytes(plan.mac);
let ownIp: number[] | null = plan.ip === "dhcp" ? null : ipBytes(plan.ip);
const neighbours = new Map<string, number[]>();
const report: Report = { ip: null, echoReplies: 0, echoRequestsAnswered: 0, othersFrames: {}, sent: 0 };

function send(frame: number[]): void {
  const bytes = new Uint8Array(headerBytes + Math.max(frame.length, 60));
  bytes.set(frame, headerBytes);
  if (writeOrErrno(FD, bytes) === bytes.byteLength) report.sent += 1;
}

function checksum(bytes: number[]): number[] {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const value = ~sum & 0xffff;
  return [value >> 8, value & 0xff];
}

function ipv4(source: number[], destination: number[], protocol: number, payload: number[]): number[] {
  const header = [0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, protocol, 0, 0, ...source, ...destination];
  const length = header.length + payload.length;
  header[2] = length >> 8;
  header[3] = length & 0xff;
  header.splice(10, 2, ...checksum(header));
  return [...header, ...payload];
}

function ethernet(destination: number[], source: number[], type: number, payload: number[]): number[] {
  return [...destination, ...source, type >> 8, type & 0xff, ...payload];
}

function arp(op: 1 | 2, senderMac: number[], senderIp: number[], targetMac: number[], targetIp: number[]): number[] {
  return [0, 1, 8, 0, 6, 4, 0, op, ...senderMac, ...senderIp, ...targetMac, ...targetIp];
}

function icmpEcho(type: 0 | 8, id: number, seq: number, data: number[]): number[] {
  const message = [type, 0, 0, 0, id >> 8, id & 0xff, seq >> 8, seq & 0xff, ...data];
  message.splice(2, 2, ...checksum(message));
  return message;
}

const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function dhcp(type: 1 | 3, xid: number, options: number[]): number[] {
  const message = new Array<number>(240).fill(0);
  message.splice(0, 4, 1, 1, 6, 0);
  message.splice(4, 4, (xid >>> 24) & 0xff, (xid >>> 16) & 0xff, (xid >>> 8) & 0xff, xid & 0xff);
  message[10] = 0x80; // broadcast replies: the guest has no address yet
  message.splice(28, 6, ...own);
  message.splice(236, 4, 99, 130, 83, 99);
  const body = [...message, 53, 1, type, ...options, 255];
  const udp = [0, 68, 0, 67, (body.length + 8) >> 8, (body.length + 8) & 0xff, 0, 0, ...body];
  return ethernet(BROADCAST, own, 0x0800, ipv4([0, 0, 0, 0], [255, 255, 255, 255], 17, udp));
}

/** The DHCP message type and fields of a reply for us, or null. */
function dhcpReply(frame: Uint8Array, xid: number): { type: number; yiaddr: number[]; server: number[] } | null {
  if (frame.length < 282 || frame[23] !== 17 || frame[36] !== 0 || frame[37] !== 68) return null;
  const bootp = 42;
  if (new DataView(frame.buffer, frame.byteOffset).getUint32(bootp + 4) !== xid) return null;
  let type = 0;
  let server: number[] = [];
  for (let at = bootp + 240; at < frame.length && frame[at] !== 255; ) {
    const code = frame[at] ?? 0;
    if (code === 0) {
      at += 1;
      continue;
    }
    const length = frame[at + 1] ?? 0;
    if (code === 53) type = frame[at + 2] ?? 0;
    if (code === 54) server = Array.from(frame.subarray(at + 2, at + 6));
    at += 2 + length;
  }
  return { type, yiaddr: Array.from(frame.subarray(bootp + 16, bootp + 20)), server };
}

const buffer = new Uint8Array(70000);
/** The next frame within `timeoutMs`, without the vnet header, or null. */
function receive(timeoutMs: number): Uint8Array | null {
  if (pollOneOrErrno(FD, POLLIN, Math.max(0, timeoutMs)) <= 0) return null;
  const n = readOrErrno(FD, buffer);
  return n > headerBytes + 14 ? buffer.subarray(headerBytes, n) : null;
}

/** Answers ARP and pings for our address, counts echo replies and frames for other addresses. */
function handle(frame: Uint8Array): void {
  const type = ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
  if (type === 0x0806 && frame.length >= 42) {
    const op = frame[21];
    const senderIp = ipText(frame, 28);
    if (op === 2) neighbours.set(senderIp, Array.from(frame.subarray(22, 28)));
    if (op === 1 && ownIp !== null && ipText(frame, 38) === ownIp.join(".")) {
      const asker = Array.from(frame.subarray(22, 28));
      send(ethernet(asker, own, 0x0806, arp(2, own, ownIp, asker, Array.from(frame.subarray(28, 32)))));
    }
    return;
  }
  if (type !== 0x0800 || frame.length < 34) return;
  const destination = ipText(frame, 30);
  if (ownIp === null || destination !== ownIp.join(".")) {
    if (destination !== "255.255.255.255" && macText(frame, 0) !== "ff:ff:ff:ff:ff:ff") {
      report.othersFrames[destination] = (report.othersFrames[destination] ?? 0) + 1;
    }
    return;
  }
  if (frame[23] !== 1) return;
  const icmp = 14 + ((frame[14] ?? 0x45) & 0xf) * 4;
  if (frame[icmp] === 0) report.echoReplies += 1;
  if (frame[icmp] === 8) {
    const data = Array.from(frame.subarray(icmp + 8, 14 + (((frame[16] ?? 0) << 8) | (frame[17] ?? 0))));
    const id = ((frame[icmp + 4] ?? 0) << 8) | (frame[icmp + 5] ?? 0);
    const seq = ((frame[icmp + 6] ?? 0) << 8) | (frame[icmp + 7] ?? 0);
    const reply = ipv4(ownIp, Array.from(frame.subarray(26, 30)), 1, icmpEcho(0, id, seq, data));
    send(ethernet(Array.from(frame.subarray(6, 12)), own, 0x0800, reply));
    report.echoRequestsAnswered += 1;
  }
}

/** DISCOVER, OFFER, REQUEST, ACK: the address a DHCP server gives, or null within `timeoutMs`. */
function takeAddressByDhcp(timeoutMs: number): number[] | null {
  const xid = (Math.random() * 0xffffffff) >>> 0;
  const deadline = Date.now() + timeoutMs;
  let offer: { yiaddr: number[]; server: number[] } | null = null;
  let lastSent = 0;
  while (Date.now() < deadline) {
    if (Date.now() - lastSent > 1000) {
      send(offer === null ? dhcp(1, xid, []) : dhcp(3, xid, [50, 4, ...offer.yiaddr, 54, 4, ...offer.server]));
      lastSent = Date.now();
    }
    const frame = receive(100);
    const reply = frame === null ? null : dhcpReply(frame, xid);
    if (reply?.type === 2 && offer === null) {
      offer = reply;
      lastSent = 0;
    } else if (reply?.type === 5) return reply.yiaddr;
  }
  return null;
}

if (ownIp === null) ownIp = takeAddressByDhcp(Math.min(plan.seconds * 1000, 15000));
report.ip = ownIp?.join(".") ?? null;
console.error("ready");
const start = Date.now();
const end = start + plan.seconds * 1000;
const ping = plan.ping;
let pingsSent = 0;
let nextPing = start;
let nextSpoof = start;
let nextClaim = start;
while (Date.now() < end) {
  const now = Date.now();
  if (ping !== undefined && ownIp !== null && pingsSent < ping.count && now >= nextPing) {
    const targetMac = ping.targetMac === undefined ? neighbours.get(ping.target) : macBytes(ping.targetMac);
    const source = ping.sourceIp === undefined ? ownIp : ipBytes(ping.sourceIp);
    if (targetMac === undefined) {
      // Not a ping yet: ask for the target's MAC, and again shortly.
      send(ethernet(BROADCAST, own, 0x0806, arp(1, own, source, [0, 0, 0, 0, 0, 0], ipBytes(ping.target))));
      nextPing = now + 100;
    } else {
      send(ethernet(targetMac, own, 0x0800, ipv4(source, ipBytes(ping.target), 1, icmpEcho(8, 0x5447, pingsSent, [1, 2, 3, 4]))));
      pingsSent += 1;
      nextPing = now + ping.intervalMs;
    }
  }
  if (plan.spoofSourceMac !== undefined && now >= nextSpoof) {
    // An ordinary broadcast from the guest's own address (which ip= lets through): the bridge learns the source MAC of any frame.
    const udp = [0x30, 0x39, 0x30, 0x39, 0, 13, 0, 0, 0x53, 0x50, 0x4f, 0x4f, 0x46];
    send(ethernet(BROADCAST, macBytes(plan.spoofSourceMac), 0x0800, ipv4(ownIp ?? [0, 0, 0, 0], [255, 255, 255, 255], 17, udp)));
    nextSpoof = now + 50;
  }
  const claim = plan.arpClaim;
  if (claim !== undefined && now >= nextClaim) {
    const toMac = claim.toMac === undefined ? BROADCAST : macBytes(claim.toMac);
    const toIp = claim.toIp === undefined ? ipBytes(claim.ip) : ipBytes(claim.toIp);
    send(ethernet(toMac, own, 0x0806, arp(2, own, ipBytes(claim.ip), toMac, toIp)));
    nextClaim = now + 100;
  }
  const frame = receive(Math.min(20, end - Date.now()));
  if (frame !== null) handle(frame);
}
console.log(JSON.stringify(report));
