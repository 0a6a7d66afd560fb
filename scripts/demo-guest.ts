// The demo's guest: on fd 3 (a TAP with a vnet header, or the relay's stream or dgram socket) it finds
// the bridge's address with ARP, pings it, then measures echo throughput, and prints one JSON line.
//   demo-guest.ts tap|stream|dgram GUEST_IP TARGET_IP
import { FrameChannel } from "./frame-channel.ts";

const [framing = "stream", guestIpText = "10.99.0.2", targetIpText = "10.99.0.1"] = process.argv.slice(2);
if (framing !== "tap" && framing !== "stream" && framing !== "dgram") throw new Error(`unknown framing ${framing}`);
const channel = new FrameChannel(3, framing);
const GUEST_MAC = new Uint8Array([0x02, 0x74, 0x6c, 0x00, 0x00, 0x02]);
const ip = (text: string) => new Uint8Array(text.split(".").map(Number));
const GUEST_IP = ip(guestIpText);
const TARGET_IP = ip(targetIpText);
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const send = (frame: Uint8Array) => channel.send(frame);
const receive = (timeoutMs: number) => channel.receive(timeoutMs);

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ethernet(destination: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  frame.set(destination, 0);
  frame.set(GUEST_MAC, 6);
  new DataView(frame.buffer).setUint16(12, type, false);
  frame.set(payload, 14);
  return frame;
}

function arpRequest(): Uint8Array {
  const arp = new Uint8Array(28);
  const view = new DataView(arp.buffer);
  view.setUint16(0, 1); // Ethernet
  view.setUint16(2, ETHERTYPE_IPV4);
  arp[4] = 6;
  arp[5] = 4;
  view.setUint16(6, 1); // request
  arp.set(GUEST_MAC, 8);
  arp.set(GUEST_IP, 14);
  arp.set(TARGET_IP, 24);
  return ethernet(new Uint8Array(6).fill(0xff), ETHERTYPE_ARP, arp);
}

function echoRequest(targetMac: Uint8Array, sequence: number, size: number): Uint8Array {
  const icmp = new Uint8Array(8 + size);
  const icmpView = new DataView(icmp.buffer);
  icmp[0] = 8; // echo request
  icmpView.setUint16(4, 0x746c);
  icmpView.setUint16(6, sequence & 0xffff);
  for (let i = 8; i < icmp.length; i += 1) icmp[i] = i & 0xff;
  icmpView.setUint16(2, checksum(icmp));
  const ipHeader = new Uint8Array(20);
  const ipView = new DataView(ipHeader.buffer);
  ipHeader[0] = 0x45;
  ipView.setUint16(2, 20 + icmp.length);
  ipHeader[8] = 64;
  ipHeader[9] = 1; // ICMP
  ipHeader.set(GUEST_IP, 12);
  ipHeader.set(TARGET_IP, 16);
  ipView.setUint16(10, checksum(ipHeader));
  const packet = new Uint8Array(20 + icmp.length);
  packet.set(ipHeader);
  packet.set(icmp, 20);
  return ethernet(targetMac, ETHERTYPE_IPV4, packet);
}

const etherType = (frame: Uint8Array) => ((frame[12] ?? 0) << 8) | (frame[13] ?? 0);
const sameAddress = (frame: Uint8Array, at: number, address: Uint8Array) => address.every((byte, i) => frame[at + i] === byte);

/** The sequence number of an echo reply from the target to us, or null. */
function echoReplySequence(frame: Uint8Array): number | null {
  if (etherType(frame) !== ETHERTYPE_IPV4 || frame[14 + 9] !== 1 || !sameAddress(frame, 14 + 12, TARGET_IP)) return null;
  const icmp = 14 + ((frame[14] ?? 0x45) & 0x0f) * 4;
  if (frame[icmp] !== 0) return null;
  return ((frame[icmp + 6] ?? 0) << 8) | (frame[icmp + 7] ?? 0);
}

function resolveTarget(): { mac: Uint8Array; milliseconds: number } {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const started = performance.now();
    send(arpRequest());
    for (let frame = receive(1000); frame !== null; frame = receive(1000)) {
      if (etherType(frame) === ETHERTYPE_ARP && frame[14 + 7] === 2 && sameAddress(frame, 14 + 14, TARGET_IP)) {
        return { mac: frame.slice(14 + 8, 14 + 14), milliseconds: performance.now() - started };
      }
    }
  }
  throw new Error(`no ARP reply from ${targetIpText}`);
}

const arp = resolveTarget();
const roundTrips: number[] = [];
for (let sequence = 1; sequence <= 5; sequence += 1) {
  const started = performance.now();
  send(echoRequest(arp.mac, sequence, 56));
  for (let frame = receive(2000); frame !== null; frame = receive(2000)) {
    if (echoReplySequence(frame) === sequence) {
      roundTrips.push(performance.now() - started);
      break;
    }
  }
}
// Throughput: 1400-byte echoes for one second with up to 32 outstanding.
let sent = 0;
let answered = 0;
const window = 32;
const throughputStart = performance.now();
while (performance.now() - throughputStart < 1000) {
  while (sent - answered < window) send(echoRequest(arp.mac, 1000 + sent++, 1400));
  const frame = receive(200);
  if (frame === null)
    answered = sent; // a lost echo: do not stall the window
  else if (echoReplySequence(frame) !== null) answered += 1;
}
const seconds = (performance.now() - throughputStart) / 1000;
console.log(
  JSON.stringify({
    arpMs: Number(arp.milliseconds.toFixed(3)),
    roundTripsMs: roundTrips.map((ms) => Number(ms.toFixed(3))),
    echoMbitPerSecond: Number(((answered * 1442 * 8 * 2) / seconds / 1e6).toFixed(1)),
  }),
);
process.exit(roundTrips.length === 5 ? 0 : 1);
