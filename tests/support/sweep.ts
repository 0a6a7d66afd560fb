// Test frames for size sweeps: recognisable content per size, so a receiver can check each one intact.
import { TEST_ETHERTYPE } from "./frames.ts";

/** The sizes a sweep sends, in order. */
export function sweepSizes(from: number, to: number, step: number): number[] {
  const sizes: number[] = [];
  for (let size = from; size <= to; size += step) sizes.push(size);
  if (sizes.at(-1) !== to) sizes.push(to);
  return sizes;
}

/** A broadcast frame of exactly `size` bytes whose content is derived from its size. */
export function sweepFrame(size: number, source = 0x0a): Uint8Array {
  const frame = new Uint8Array(size);
  frame.fill(0xff, 0, 6);
  frame.set([0x02, 0, 0, 0, 0, source], 6);
  frame[12] = TEST_ETHERTYPE >> 8;
  frame[13] = TEST_ETHERTYPE & 0xff;
  for (let i = 14; i < size; i += 1) frame[i] = (size * 7 + i) & 0xff;
  return frame;
}

/** Why `frame` is not the sweep frame of its size, or null when it is. */
export function sweepProblem(frame: Uint8Array, expectedSize: number): string | null {
  if (frame.length !== expectedSize) return `expected a ${expectedSize}-byte frame, got ${frame.length} bytes`;
  for (let i = 14; i < frame.length; i += 1) {
    if (frame[i] !== ((expectedSize * 7 + i) & 0xff)) return `frame of ${expectedSize} bytes differs at byte ${i}`;
  }
  return null;
}

export function isSweepFrame(frame: Uint8Array): boolean {
  return frame.length >= 14 && frame[12] === TEST_ETHERTYPE >> 8 && frame[13] === (TEST_ETHERTYPE & 0xff);
}
