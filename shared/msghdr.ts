// struct msghdr, iovec and cmsghdr as LP64 Linux lays them out (x86-64 and aarch64 alike), and one long-lived buffer laid out with them.
import { addressOf } from "./libc.ts";

/** struct iovec (<bits/types/struct_iovec.h>): void *iov_base (8), size_t iov_len (8): 16 bytes. */
export const IOVEC = { size: 16, base: 0, length: 8 } as const;
/** struct msghdr (<sys/socket.h>): seven fields of 8 bytes, msg_namelen and msg_flags being 4-byte ints padded to 8. */
export const MSGHDR = { size: 56, name: 0, nameLength: 8, iov: 16, iovLength: 24, control: 32, controlLength: 40, flags: 48 } as const;
/** struct cmsghdr (<bits/socket.h>): size_t cmsg_len, int cmsg_level, int cmsg_type; its data follows at once. */
export const CMSGHDR = { size: 16, length: 0, level: 8, type: 12 } as const;

/** CMSG_ALIGN: control messages start on 8-byte boundaries. CMSG_SPACE: the room one takes, padded. */
export const cmsgAlign = (length: number): number => (length + 7) & ~7;
export const cmsgSpace = (dataBytes: number): number => cmsgAlign(CMSGHDR.size + dataBytes);

/** Writes a cmsghdr at `at` for `dataBytes` of data (cmsg_len is CMSG_LEN); the caller writes the data after it. */
export function writeControlHeader(view: DataView, at: number, level: number, type: number, dataBytes: number): void {
  view.setBigUint64(at + CMSGHDR.length, BigInt(CMSGHDR.size + dataBytes), true);
  view.setInt32(at + CMSGHDR.level, level, true);
  view.setInt32(at + CMSGHDR.type, type, true);
}

/** One long-lived buffer for a msghdr, its iovec, data and control buffer: the pointers inside stay valid (oven-sh/bun#32054). */
export class MessageArena {
  static readonly MESSAGE = 0; // struct msghdr
  static readonly VECTOR = 64; // its one struct iovec
  static readonly DATA = 128; // the payload; QEMU sends and expects one byte
  static readonly DATA_ROOM = 128;
  static readonly CONTROL = 256; // control messages: room for many fds, so that extras can be closed, not leaked
  static readonly CONTROL_ROOM = 1024;
  readonly bytes = new Uint8Array(4096);
  readonly view = new DataView(this.bytes.buffer);
  readonly #address = addressOf(this.bytes);

  /** Zeroes the message and points it at `dataLength` bytes of data and `controlLength` of control buffer. */
  layOut(dataLength: number, controlLength: number): void {
    const { MESSAGE, VECTOR, DATA, CONTROL, CONTROL_ROOM } = MessageArena;
    this.bytes.fill(0, 0, CONTROL + CONTROL_ROOM);
    this.view.setBigUint64(MESSAGE + MSGHDR.iov, BigInt(this.#address + VECTOR), true);
    this.view.setBigUint64(MESSAGE + MSGHDR.iovLength, 1n, true);
    this.view.setBigUint64(MESSAGE + MSGHDR.control, BigInt(this.#address + CONTROL), true);
    this.view.setBigUint64(MESSAGE + MSGHDR.controlLength, BigInt(controlLength), true);
    this.view.setBigUint64(VECTOR + IOVEC.base, BigInt(this.#address + DATA), true);
    this.view.setBigUint64(VECTOR + IOVEC.length, BigInt(dataLength), true);
  }
}
