// Sends or captures test frames on an interface through an AF_PACKET socket (run inside a namespace).
//   packet-tool.ts send IFACE HEX        one frame
//   packet-tool.ts recv IFACE TIMEOUT_MS prints "ready", then the hex of the first TEST_ETHERTYPE frame
import { AF_PACKET, ETH_P_ALL, SOCK_CLOEXEC, SOCK_RAW } from "../../shared/kernel.ts";
import { bindSocket, interfaceIndex, openSocket, writeOrErrno } from "../../shared/libc.ts";
import { readTestFrame } from "./frames.ts";

const [mode, iface, argument] = process.argv.slice(2);
if (iface === undefined || argument === undefined) throw new Error("usage: packet-tool.ts send|recv IFACE ARG");

const protocol = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8); // htons
const fd = openSocket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
const address = new Uint8Array(20); // struct sockaddr_ll
const view = new DataView(address.buffer);
view.setUint16(0, AF_PACKET, true);
view.setUint16(2, protocol, true);
view.setInt32(4, interfaceIndex(iface), true);
bindSocket(fd, address, iface);

if (mode === "send") {
  const frame = Buffer.from(argument, "hex");
  const n = writeOrErrno(fd, frame);
  if (n !== frame.length) throw new Error(`send on ${iface}: ${n}`);
} else {
  console.log("ready");
  const frame = readTestFrame(fd, Number(argument));
  console.log(frame === null ? "timeout" : Buffer.from(frame).toString("hex"));
}
