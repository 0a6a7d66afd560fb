// A test guest that sends a sweep to the relay on fd 3 as fast as it can, with no pauses.
//   burst-guest.ts stream|dgram FROM TO STEP SEED
// stream: the whole sweep in QEMU's framing as one byte stream, written in pieces cut at random
// points (so the relay reads many frames at once and frames split across reads); dgram: one datagram
// per frame, back to back (the relay receives them in batches).
import { FrameChannel } from "../../scripts/frame-channel.ts";
import { sweepFrame, sweepSizes } from "../support/sweep.ts";

const [format, ...rest] = process.argv.slice(2);
const [from = 14, to = 1514, step = 1, seed = 1] = rest.map(Number);
const channel = new FrameChannel(3, format === "dgram" ? "dgram" : "stream");
const frames = sweepSizes(from, to, step).map((size) => sweepFrame(size, 0x0a));

if (format === "dgram") {
  for (const frame of frames) channel.send(frame);
} else {
  const stream = Buffer.concat(
    frames.map((frame) => {
      const framed = new Uint8Array(4 + frame.length);
      new DataView(framed.buffer).setUint32(0, frame.length, false);
      framed.set(frame, 4);
      return framed;
    }),
  );
  let state = seed >>> 0 || 1;
  for (let at = 0; at < stream.length; ) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const piece = 1 + ((state >>> 0) % 20000);
    channel.sendRaw(stream.subarray(at, at + piece));
    at += piece;
  }
}
Bun.sleepSync(300); // let the relay pass the last frames before this end closes
