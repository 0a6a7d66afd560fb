// A test guest that speaks the relay's formats on fd 3 (as QEMU's -netdev stream/dgram would).
//   relay-guest.ts recv-sweep stream|dgram FROM TO STEP TIMEOUT_MS   "ok N" or the first problem
//   relay-guest.ts send-sweep stream|dgram FROM TO STEP              every size, in order
//   relay-guest.ts until-eof                                          prints "eof" when fd 3 ends
//   relay-guest.ts fuzz SEED                                          valid frames in random pieces, then garbage
import { FrameChannel } from "../../scripts/frame-channel.ts";
import { isSweepFrame, sweepFrame, sweepProblem, sweepSizes } from "./sweep.ts";

const [mode, format, ...rest] = process.argv.slice(2);
const numbers = rest.map(Number);
const channel = new FrameChannel(3, format === "dgram" ? "dgram" : "stream");

function encode(frame: Uint8Array): Uint8Array {
  if (format !== "stream") return frame;
  const framed = new Uint8Array(4 + frame.length);
  new DataView(framed.buffer).setUint32(0, frame.length, false);
  framed.set(frame, 4);
  return framed;
}

if (mode === "recv-sweep") {
  const [from = 14, to = 1514, step = 1, timeout = 10000] = numbers;
  console.log("ready");
  const sizes = sweepSizes(from, to, step);
  let problem: string | null = null;
  for (const size of sizes) {
    let frame = channel.receive(timeout);
    while (frame !== null && !isSweepFrame(frame)) frame = channel.receive(timeout);
    problem = frame === null ? `no frame of ${size} bytes arrived` : sweepProblem(frame, size);
    if (problem !== null) break;
  }
  console.log(problem ?? `ok ${sizes.length}`);
} else if (mode === "send-sweep") {
  const [from = 14, to = 1514, step = 1] = numbers;
  sweepSizes(from, to, step).forEach((size, index) => {
    channel.send(sweepFrame(size, 0x0a));
    if (index % 20 === 19) Bun.sleepSync(1);
  });
  Bun.sleepSync(200); // let the relay pass the last frames before this end closes
} else if (mode === "until-eof") {
  console.log("up");
  while (channel.readable(-1) && channel.readRaw() > 0);
  console.log("eof");
} else if (mode === "fuzz") {
  // A small deterministic generator, so a failing seed can be replayed.
  let state = (numbers[0] ?? 1) >>> 0 || 1;
  const random = (limit: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % limit;
  };
  const parts: Uint8Array[] = [];
  let valid = 0;
  for (let i = 0; i < 200; i += 1) {
    const kind = random(10);
    if (kind === 0)
      parts.push(encode(new Uint8Array(0))); // an empty frame: dropped, not fatal
    else if (kind === 1)
      parts.push(encode(new Uint8Array(1 + random(13)))); // shorter than Ethernet: dropped
    else {
      parts.push(encode(sweepFrame(14 + random(1500), 0x0a)));
      valid += 1;
    }
  }
  const stream = Buffer.concat(parts);
  for (let at = 0; at < stream.length; ) {
    const piece = 1 + random(3000); // random splits: a length or a frame cut anywhere
    channel.sendRaw(stream.subarray(at, at + piece));
    at += piece;
  }
  // Then, in one write, three more frames and garbage whose first four bytes are an impossible
  // length: the relay must pass on the three and then close us.
  const garbage = new Uint8Array(64).map(() => random(256));
  garbage.set([0xff, 0xff, 0xff, random(256)], 0);
  const last = [60, 600, 1500].map((size) => encode(sweepFrame(size, 0x0b)));
  channel.sendRaw(Buffer.concat([...last, garbage]));
  console.log(`sent ${valid + last.length} frames`);
  const closed = (() => {
    for (;;) {
      if (!channel.readable(10000)) return false;
      if (channel.readRaw() === 0) return true;
    }
  })();
  console.log(closed ? "closed" : "still open");
}
