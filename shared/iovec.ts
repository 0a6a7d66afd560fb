// struct iovec and struct mmsghdr tables for batched I/O, laid out once in long-lived buffers (LP64 Linux).
import { addressOf } from "./libc.ts";
import { IOVEC, MSGHDR } from "./msghdr.ts";

/**
 * struct mmsghdr (<sys/socket.h>): struct msghdr (shared/msghdr.ts, 56 bytes), then unsigned msg_len
 * (4) and 4 bytes of padding: 64 bytes. The same on x86-64 and aarch64.
 */
export const MMSGHDR = { ...MSGHDR, size: 64, length: 56 } as const;

/** Writes an address below 2^53 as a little-endian u64 into two u32 words, without a BigInt. */
function setU64(words: Uint32Array, index: number, value: number): void {
  words[index] = value % 0x100000000;
  words[index + 1] = Math.floor(value / 0x100000000);
}

/** `count` iovecs in one buffer that stays put; entries are set by index, nothing allocated per call. */
export class IovecTable {
  readonly bytes: Uint8Array;
  /** The address of iovec 0. */
  readonly address: number;
  readonly #words: Uint32Array;

  constructor(readonly count: number) {
    // addressOf wants at least 1 KiB: small arrays can move (oven-sh/bun#32054).
    this.bytes = new Uint8Array(Math.max(1024, count * IOVEC.size));
    this.address = addressOf(this.bytes);
    this.#words = new Uint32Array(this.bytes.buffer);
  }

  /** Points iovec `i` at `length` bytes from `address`. */
  set(i: number, address: number, length: number): void {
    const word = (i * IOVEC.size) / 4;
    setU64(this.#words, word, address);
    this.#words[word + 2] = length;
    this.#words[word + 3] = 0;
  }

  base(i: number): number {
    const word = (i * IOVEC.size) / 4;
    return (this.#words[word] ?? 0) + (this.#words[word + 1] ?? 0) * 0x100000000;
  }

  length(i: number): number {
    return this.#words[(i * IOVEC.size + IOVEC.length) / 4] ?? 0;
  }

  /** The address of iovec `i`, for calls that take an array of them. */
  addressOf(i: number): number {
    return this.address + i * IOVEC.size;
  }
}

/**
 * `count` mmsghdrs for sendmmsg/recvmmsg, message `i` carrying iovec `i` of `iovecs` alone; no names,
 * no control data. The kernel writes msg_len (and msg_flags) back; nothing else changes between calls.
 */
export class MessageTable {
  readonly bytes: Uint8Array;
  readonly address: number;
  readonly #view: DataView;

  constructor(readonly iovecs: IovecTable) {
    this.bytes = new Uint8Array(Math.max(1024, iovecs.count * MMSGHDR.size));
    this.address = addressOf(this.bytes);
    this.#view = new DataView(this.bytes.buffer);
    const words = new Uint32Array(this.bytes.buffer);
    for (let i = 0; i < iovecs.count; i += 1) {
      setU64(words, (i * MMSGHDR.size + MMSGHDR.iov) / 4, iovecs.addressOf(i));
      setU64(words, (i * MMSGHDR.size + MMSGHDR.iovLength) / 4, 1);
    }
  }

  /** msg_len of message `i` as the last call left it: bytes sent or received (with MSG_TRUNC, the datagram's size). */
  length(i: number): number {
    return this.#view.getUint32(i * MMSGHDR.size + MMSGHDR.length, true);
  }

  addressOf(i: number): number {
    return this.address + i * MMSGHDR.size;
  }
}
