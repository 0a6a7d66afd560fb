// StreamReassembly alone: any split of a valid stream gives back exactly its frames; garbage gives the
// frames before its first impossible length and then FramingError; what it holds never exceeds its buffer.
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
  return Buffer.concat(
    frames.map((frame) => {
      const out = new Uint8Array(4 + frame.length);
      new DataView(out.buffer).setUint32(0, frame.length, false);
      out.set(frame, 4);
      return out;
    }),
  );
}

/**
 * Feeds `stream` in random pieces, collecting frames into `frames` (kept when it throws); returns the
 * largest amount held.
 */
function feedInto(frames: Uint8Array[], stream: Uint8Array, random: (limit: number) => number): number {
  const reassembly = new StreamReassembly(256 * 1024 + 4 + MAX_STREAM_FRAME);
  let maxHeld = 0;
  for (let at = 0; at < stream.length; ) {
    const room = reassembly.room();
    const piece = Math.min(1 + random(70000), room, stream.length - at);
    reassembly.buffer.set(stream.subarray(at, at + piece), reassembly.end);
    reassembly.added(piece);
    at += piece;
    maxHeld = Math.max(maxHeld, reassembly.held);
    while (reassembly.next()) {
      expect(reassembly.frameOffset).toBeGreaterThanOrEqual(HEADROOM + 4); // room for a vnet header before it
      frames.push(reassembly.buffer.slice(reassembly.frameOffset, reassembly.frameOffset + reassembly.frameLength));
    }
  }
  return maxHeld;
}

function feed(stream: Uint8Array, random: (limit: number) => number): { frames: Uint8Array[]; maxHeld: number } {
  const frames: Uint8Array[] = [];
  const maxHeld = feedInto(frames, stream, random);
  return { frames, maxHeld };
}

/** What a correct reader must make of `stream`: the complete frames before the first impossible length, and that length (or null). */
function expectedOutcome(stream: Uint8Array): { frames: Uint8Array[]; badLength: number | null } {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const frames: Uint8Array[] = [];
  for (let at = 0; at + 4 <= stream.length; ) {
    const length = view.getUint32(at, false);
    if (length > MAX_STREAM_FRAME) return { frames, badLength: length };
    if (at + 4 + length > stream.length) break;
    frames.push(stream.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { frames, badLength: null };
}

/**
 * Random bytes in records of random length. With `poisoned`, one record somewhere has an impossible
 * length (or a possible but wrong one, after which the reader meets random bytes as lengths); without,
 * every length is right and the stream is cut at a random point, mid-record.
 */
function garbage(random: (limit: number) => number, poisoned: boolean): Uint8Array {
  const records = Array.from({ length: 100 + random(100) }, () => new Uint8Array(4 + random(3000)).map(() => random(256)));
  const poison = poisoned ? random(records.length) : -1;
  records.forEach((record, i) => {
    const wrong = random(2) === 0 ? MAX_STREAM_FRAME + 1 + random(1 << 30) : record.length + random(MAX_STREAM_FRAME - record.length);
    new DataView(record.buffer).setUint32(0, i === poison ? wrong : record.length - 4, false);
  });
  const stream = Buffer.concat(records);
  return poisoned ? stream : stream.subarray(0, stream.length - 1 - random(2000));
}

describe("StreamReassembly", () => {
  for (let seed = 1; seed <= 20; seed += 1) {
    test(`random frames in random pieces (seed ${seed})`, () => {
      const random = xorshift(seed);
      const sent = Array.from({ length: 300 }, () => new Uint8Array(random(4) === 0 ? random(65536) : random(1600)).map(() => random(256)));
      const { frames, maxHeld } = feed(encode(sent), random);
      expect(frames.length).toBe(sent.length);
      for (const [i, frame] of frames.entries()) expect(Buffer.compare(frame, sent[i] ?? new Uint8Array())).toBe(0);
      expect(maxHeld).toBeLessThanOrEqual(256 * 1024 + 4 + MAX_STREAM_FRAME);
    });
  }

  let endedInError = 0;
  for (let seed = 1; seed <= 40; seed += 1) {
    test(`garbage gives exactly the frames before its first impossible length, then FramingError or nothing (seed ${seed})`, () => {
      const random = xorshift(1000 + seed);
      const stream = garbage(random, seed % 2 === 1);
      const expected = expectedOutcome(stream);
      const frames: Uint8Array[] = [];
      let thrown: unknown = null;
      try {
        feedInto(frames, stream, random);
      } catch (err) {
        thrown = err;
      }
      if (expected.badLength === null) {
        expect(thrown).toBeNull();
      } else {
        endedInError += 1;
        expect(thrown).toEqual(new FramingError(expected.badLength));
      }
      expect(frames.length).toBe(expected.frames.length);
      for (const [i, frame] of frames.entries()) expect(Buffer.compare(frame, expected.frames[i] ?? new Uint8Array())).toBe(0);
    });
  }

  test("the garbage cases above went both ways", () => {
    expect(endedInError).toBeGreaterThan(0);
    expect(endedInError).toBeLessThan(40);
  });

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
