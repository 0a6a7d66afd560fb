// StreamReassembly alone: any split of a valid stream gives back exactly its frames; garbage only
// ever ends in FramingError; what it holds never exceeds its buffer.
import { describe, expect, test } from "bun:test";
import { FramingError, HEADROOM, MAX_STREAM_FRAME, StreamReassembly } from "../../launcher/datapath/stream-framing.ts";

function xorshift(seed: number): (limit: number) => number {
  let state = seed >>> 0 || 1;
  return (limit) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % limit;
  };
}

function encode(frames: Uint8Array[]): Uint8Array {
  return Buffer.concat(frames.map((frame) => {
    const out = new Uint8Array(4 + frame.length);
    new DataView(out.buffer).setUint32(0, frame.length, false);
    out.set(frame, 4);
    return out;
  }));
}

/** Feeds `stream` in random pieces; returns the frames and the largest amount held. */
function feed(stream: Uint8Array, random: (limit: number) => number): { frames: Uint8Array[]; maxHeld: number } {
  const reassembly = new StreamReassembly(256 * 1024 + 4 + MAX_STREAM_FRAME);
  const frames: Uint8Array[] = [];
  let maxHeld = 0;
  for (let at = 0; at < stream.length; ) {
    const room = reassembly.room();
    const piece = Math.min(1 + random(70000), room.length, stream.length - at);
    reassembly.buffer.set(stream.subarray(at, at + piece), room.offset);
    reassembly.added(piece);
    at += piece;
    maxHeld = Math.max(maxHeld, reassembly.held);
    for (let frame = reassembly.next(); frame !== null; frame = reassembly.next()) {
      expect(frame.offset).toBeGreaterThanOrEqual(HEADROOM + 4); // room for a vnet header before it
      frames.push(reassembly.buffer.slice(frame.offset, frame.offset + frame.length));
    }
  }
  return { frames, maxHeld };
}

describe("StreamReassembly", () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    test(`random frames in random pieces (seed ${seed})`, () => {
      const random = xorshift(seed);
      const sent = Array.from({ length: 300 }, () => new Uint8Array(random(4) === 0 ? random(65536) : random(1600)).map(() => random(256)));
      const { frames, maxHeld } = feed(encode(sent), random);
      expect(frames.length).toBe(sent.length);
      frames.forEach((frame, i) => expect(Buffer.compare(frame, sent[i] ?? new Uint8Array())).toBe(0));
      expect(maxHeld).toBeLessThanOrEqual(256 * 1024 + 4 + MAX_STREAM_FRAME);
    });
  }

  for (let seed = 1; seed <= 20; seed += 1) {
    test(`garbage ends in FramingError or nothing, never anything else (seed ${seed})`, () => {
      const random = xorshift(1000 + seed);
      const garbage = new Uint8Array(200000).map(() => random(256));
      try {
        feed(garbage, random);
      } catch (err) {
        expect(err).toBeInstanceOf(FramingError);
        expect((err as FramingError).length).toBeGreaterThan(MAX_STREAM_FRAME);
      }
    });
  }

  test("the largest frame is accepted; one byte more is an impossible length", () => {
    const random = xorshift(7);
    expect(feed(encode([new Uint8Array(MAX_STREAM_FRAME)]), random).frames[0]?.length).toBe(MAX_STREAM_FRAME);
    const tooLong = new Uint8Array(8);
    new DataView(tooLong.buffer).setUint32(0, MAX_STREAM_FRAME + 1, false);
    expect(() => feed(tooLong, random)).toThrow(new FramingError(MAX_STREAM_FRAME + 1));
  });

  test("zero-length frames come out as empty frames (the relay drops them)", () => {
    const { frames } = feed(encode([new Uint8Array(0), new Uint8Array(20), new Uint8Array(0)]), xorshift(3));
    expect(frames.map((frame) => frame.length)).toEqual([0, 20, 0]);
  });
});
