// Ethernet test frames and reading a TAP fd with a deadline.
import { POLLIN } from "../../shared/kernel-launcher.ts";
import { pollOneOrErrno, readOrErrno } from "../../shared/libc.ts";

/** A local experimental EtherType (IEEE 802 "Local Experimental Ethertype 1"): nothing else sends it. */
export const TEST_ETHERTYPE = 0x88b5;

/** A broadcast frame from `source` with a recognisable payload padded to `length` bytes. */
export function testFrame(source: string, marker: string, length = 64): Uint8Array {
  const frame = new Uint8Array(Math.max(length, 14 + marker.length));
  frame.fill(0xff, 0, 6);
  frame.set(
    source.split(":").map((part) => parseInt(part, 16)),
    6,
  );
  frame[12] = TEST_ETHERTYPE >> 8;
  frame[13] = TEST_ETHERTYPE & 0xff;
  frame.set(new TextEncoder().encode(marker), 14);
  for (let i = 14 + marker.length; i < frame.length; i += 1) frame[i] = i & 0xff;
  return frame;
}

export function etherType(frame: Uint8Array, offset = 0): number {
  return ((frame[offset + 12] ?? 0) << 8) | (frame[offset + 13] ?? 0);
}

/**
 * Reads frames from `fd` until one with TEST_ETHERTYPE arrives (after `skip` bytes of header) or the
 * deadline passes. Returns the frame without the skipped header, or null.
 */
export function readTestFrame(fd: number, timeoutMs: number, skip = 0): Uint8Array | null {
  const deadline = Date.now() + timeoutMs;
  const buffer = new Uint8Array(70000);
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return null;
    if (pollOneOrErrno(fd, POLLIN, left) <= 0) continue;
    const n = readOrErrno(fd, buffer);
    if (n <= skip) continue;
    const frame = buffer.slice(skip, n);
    if (etherType(frame) === TEST_ETHERTYPE) return frame;
  }
}
