// How the relay reads and writes TAP frames a batch at a time: one read() or writev() per frame, nothing allocated.
import { EAGAIN, EBADFD, EINTR } from "../../shared/errno.ts";
import { IovecTable } from "../../shared/iovec.ts";
import { addressOf } from "../../shared/libc.ts";
import { readAtOrErrno, writevAtOrErrno } from "../../shared/libc-launcher.ts";

/** Frames per wake-up and direction: one batch (QEMU's tap.c moves 50; the C reference relays 64). */
export const BATCH = 64;

/**
 * Frames on their way to the TAP: frame `i` is written from two iovecs, a zeroed virtio-net header
 * (when the TAP has one) and the frame itself, so frames never need room in front of them.
 */
export class TapWriteBatch {
  readonly iovecs = new IovecTable(2 * BATCH);
  /** What each write returned: bytes, or minus errno. */
  readonly results = new Int32Array(BATCH);
  readonly #zeros = new Uint8Array(1024);

  constructor(readonly vnetHeaderLength: number) {
    for (let i = 0; i < BATCH; i += 1) this.iovecs.set(2 * i, addressOf(this.#zeros), vnetHeaderLength);
  }

  /** Frame `i` is `length` bytes at `address`. */
  set(i: number, address: number, length: number): void {
    this.iovecs.set(2 * i + 1, address, length);
  }

  length(i: number): number {
    return this.iovecs.length(2 * i + 1);
  }

  /** The iovecs of frame `i` and how many there are. */
  vector(i: number): number {
    return this.iovecs.addressOf(this.vnetHeaderLength > 0 ? 2 * i : 2 * i + 1);
  }

  get vectorCount(): number {
    return this.vnetHeaderLength > 0 ? 2 : 1;
  }
}

/**
 * Reads and writes on the TAP, a batch at a time. Never throws for a failed read or write: results
 * say. One system call per frame: batching them through io_uring measured no cheaper on tun (see
 * README, Speed), and a TAP read is one frame whatever the buffer.
 */
export class TapPort {
  constructor(private readonly fd: number) {}

  /**
   * Reads up to `count` frames, frame `i` into `room` bytes at `address + i * stride`; `results[i]`
   * gets its size (with any virtio-net header) or minus errno. Returns how many slots were tried
   * (results beyond are stale); reading stops at the first failure, so only the last can be -EAGAIN.
   */
  readFrames(address: number, stride: number, room: number, count: number, results: Int32Array): number {
    for (let i = 0; i < count; i += 1) {
      let n = readAtOrErrno(this.fd, address + i * stride, room);
      while (n === -EINTR) n = readAtOrErrno(this.fd, address + i * stride, room);
      results[i] = n;
      if (n < 0) return i + 1;
    }
    return count;
  }

  /**
   * Writes frames [from, to) of `batch`, in order; `batch.results` says how each went. Returns the
   * first frame the TAP did not take because it was full (EAGAIN): `to` when it took them all.
   */
  writeFrames(batch: TapWriteBatch, from: number, to: number): number {
    for (let i = from; i < to; i += 1) {
      let n = writevAtOrErrno(this.fd, batch.vector(i), batch.vectorCount);
      while (n === -EINTR) n = writevAtOrErrno(this.fd, batch.vector(i), batch.vectorCount);
      if (n === -EAGAIN) return i;
      batch.results[i] = n;
      if (n === -EBADFD) return i + 1;
    }
    return to;
  }
}
