// Sends or captures test frames on an interface through an AF_PACKET socket (run inside a namespace).
//   packet-tool.ts send IFACE HEX                   one frame
//   packet-tool.ts recv IFACE TIMEOUT_MS            "ready", then the hex of the first test frame
//   packet-tool.ts send-sweep IFACE FROM TO STEP    sweep frames of each size, paced
//   packet-tool.ts recv-sweep IFACE FROM TO STEP TIMEOUT_MS
//                                                   "ready", then "ok N" or the first problem
//   packet-tool.ts flood IFACE COUNT SIZE           COUNT frames as fast as it can
import { SOCK_CLOEXEC, SOCK_RAW, SOL_SOCKET } from "../../shared/kernel.ts";
import { AF_PACKET, ETH_P_ALL } from "../../shared/kernel-launcher.ts";
import { openSocket, writeOrErrno } from "../../shared/libc.ts";
import { bindSocket, setSocketOptionInt } from "./socket-calls.ts";
import { InterfaceControl } from "../../shared/netdev.ts";
import { readTestFrame } from "./frames.ts";
import { sweepFrame, sweepProblem, sweepSizes } from "./sweep.ts";

const [mode, iface, ...rest] = process.argv.slice(2);
if (iface === undefined) throw new Error("usage: packet-tool.ts MODE IFACE ...");

const protocol = ((ETH_P_ALL & 0xff) << 8) | (ETH_P_ALL >> 8); // htons
const fd = openSocket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
const address = new Uint8Array(20); // struct sockaddr_ll
const view = new DataView(address.buffer);
view.setUint16(0, AF_PACKET, true);
view.setUint16(2, protocol, true);
const control = new InterfaceControl();
view.setInt32(4, control.index(iface), true);
control.close();
bindSocket(fd, address, iface);
// A capture must not lose frames itself: a large receive buffer (root may exceed rmem_max).
const SO_RCVBUFFORCE = 33;
setSocketOptionInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, "SO_RCVBUFFORCE", 64 << 20);
const numbers = rest.map(Number);

function send(frame: Uint8Array): void {
  for (;;) {
    const n = writeOrErrno(fd, frame);
    if (n === frame.length) return;
    if (n !== -105 && n !== -11) throw new Error(`send on ${iface}: ${n}`); // retry ENOBUFS/EAGAIN
    Bun.sleepSync(1);
  }
}

if (mode === "send") {
  send(Buffer.from(rest[0] ?? "", "hex"));
} else if (mode === "recv") {
  console.log("ready");
  const frame = readTestFrame(fd, numbers[0] ?? 1000);
  console.log(frame === null ? "timeout" : Buffer.from(frame).toString("hex"));
} else if (mode === "send-sweep") {
  const [from = 14, to = 1514, step = 1] = numbers;
  sweepSizes(from, to, step).forEach((size, index) => {
    send(sweepFrame(size, 0x0b));
    if (index % 20 === 19) Bun.sleepSync(1); // stay under the queues' limits: this checks content, not speed
  });
} else if (mode === "recv-sweep") {
  const [from = 14, to = 1514, step = 1, timeout = 10000] = numbers;
  console.log("ready");
  const sizes = sweepSizes(from, to, step);
  let problem: string | null = null;
  for (const size of sizes) {
    const frame = readTestFrame(fd, timeout);
    problem = frame === null ? `no frame of ${size} bytes arrived` : sweepProblem(frame, size);
    if (problem !== null) break;
  }
  console.log(problem ?? `ok ${sizes.length}`);
} else if (mode === "flood") {
  const [count = 1000, size = 64] = numbers;
  const frame = sweepFrame(size, 0x0c);
  for (let i = 0; i < count; i += 1) writeOrErrno(fd, frame); // drops are the point here
}
