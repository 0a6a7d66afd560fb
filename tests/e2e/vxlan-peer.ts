// A tiny guest for the far host of the VXLAN test: on fd 3 (the TAP tap-launcher hands over, with its
// vnet header) it answers ARP requests and ICMP echo requests for one IPv4 address.
//   vxlan-peer.ts IP ECHOES DEADLINE_MS
// Prints "ready TAP MTU" once listening (the TAP's name and MTU as the kernel reports them), then
// "answered N" and exits 0 after answering ECHOES echo requests; exits 1 at the deadline.
import { readFileSync } from "node:fs";
import { FrameChannel } from "../../scripts/frame-channel.ts";

const [ipText = "", echoesText = "3", deadlineText = "60000"] = process.argv.slice(2);
const OWN_IP = new Uint8Array(ipText.split(".").map(Number));
const OWN_MAC = new Uint8Array([0x02, 0x74, 0x6c, 0x76, 0x78, 0x03]);
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const channel = new FrameChannel(3, "tap");

/** The Internet checksum (RFC 1071) of `bytes`. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

const sameBytes = (frame: Uint8Array, at: number, expected: Uint8Array) => expected.every((byte, i) => frame[at + i] === byte);

/** The ARP reply to a request for OWN_IP, or null. */
function arpReply(frame: Uint8Array): Uint8Array | null {
  const view = new DataView(frame.buffer, frame.byteOffset);
  if (frame.length < 42 || view.getUint16(12) !== ETHERTYPE_ARP || view.getUint16(20) !== 1 || !sameBytes(frame, 38, OWN_IP)) return null;
  const reply = frame.slice(0, 42);
  const replyView = new DataView(reply.buffer);
  reply.set(frame.subarray(6, 12), 0); // to the asker
  reply.set(OWN_MAC, 6);
  replyView.setUint16(20, 2);
  reply.set(OWN_MAC, 22);
  reply.set(OWN_IP, 28);
  reply.set(frame.subarray(22, 28), 32); // target: the sender's MAC and IP
  reply.set(frame.subarray(28, 32), 38);
  return reply;
}

/** The echo reply to an ICMP echo request to OWN_IP, or null. */
function echoReply(frame: Uint8Array): Uint8Array | null {
  const view = new DataView(frame.buffer, frame.byteOffset);
  if (frame.length < 42 || view.getUint16(12) !== ETHERTYPE_IPV4 || frame[23] !== 1 || !sameBytes(frame, 30, OWN_IP)) return null;
  const headerLength = ((frame[14] ?? 0x45) & 0x0f) * 4;
  const totalLength = view.getUint16(16);
  const icmp = 14 + headerLength;
  if (frame[icmp] !== 8 || 14 + totalLength > frame.length) return null;
  const reply = frame.slice(0, 14 + totalLength);
  reply.set(frame.subarray(6, 12), 0);
  reply.set(OWN_MAC, 6);
  reply.set(frame.subarray(30, 34), 26); // source: us
  reply.set(frame.subarray(26, 30), 30); // destination: the asker
  reply[22] = 64; // TTL
  reply[24] = 0;
  reply[25] = 0;
  new DataView(reply.buffer).setUint16(24, checksum(reply.subarray(14, icmp)));
  reply[icmp] = 0; // echo reply
  reply[icmp + 2] = 0;
  reply[icmp + 3] = 0;
  new DataView(reply.buffer).setUint16(icmp + 2, checksum(reply.subarray(icmp)));
  return reply;
}

const tap = process.env.TAP_IFNAME ?? "";
const mtu = readFileSync(`/sys/class/net/${tap}/mtu`, "utf8").trim();
console.log(`ready ${tap} ${mtu}`);
const deadline = performance.now() + Number(deadlineText);
let answered = 0;
while (answered < Number(echoesText)) {
  const left = deadline - performance.now();
  if (left <= 0) {
    console.log(`deadline: answered ${answered}`);
    process.exit(1);
  }
  const frame = channel.receive(Math.ceil(left));
  if (frame === null) continue;
  const arp = arpReply(frame);
  if (arp !== null) channel.send(arp);
  const echo = echoReply(frame);
  if (echo !== null) {
    channel.send(echo);
    answered += 1;
  }
}
console.log(`answered ${answered}`);
