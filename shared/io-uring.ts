// An io_uring for batches of reads and writes submitted in one system call: setup, the rings' layout, submit-and-wait.
import { SysError } from "./errors.ts";
import { EINTR, EINVAL } from "./errno.ts";
import {
  IORING_ENTER_GETEVENTS, IORING_FEAT_SINGLE_MMAP, IORING_OFF_SQ_RING, IORING_OFF_SQES,
  IORING_SETUP_COOP_TASKRUN, IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_SUBMIT_ALL, SYS_io_uring_enter,
  SYS_io_uring_setup,
} from "./kernel.ts";
import { closeFd, describeErrno, mapShared, syscallOrErrno, syscallWithBuffer, unmap } from "./libc.ts";

/**
 * struct io_uring_params (<linux/io_uring.h>), 120 bytes: seven u32 (sq_entries, cq_entries, flags,
 * sq_thread_cpu, sq_thread_idle, features, wq_fd) and resv[3]; then struct io_sqring_offsets at 40
 * and struct io_cqring_offsets at 80 (each eight u32 and a u64 user_addr, 40 bytes). Same on every
 * architecture: fixed-size fields only.
 */
const PARAMS = {
  size: 120, sqEntries: 0, cqEntries: 4, flags: 8, features: 20,
  sq: { head: 40, tail: 44, ringMask: 48, array: 64 },
  cq: { head: 80, tail: 84, ringMask: 88, cqes: 100 },
} as const;

/**
 * struct io_uring_sqe, 64 bytes: u8 opcode, u8 flags, u16 ioprio, s32 fd, u64 off, u64 addr, u32 len,
 * u32 rw_flags, u64 user_data, u16 buf_index, u16 personality, s32 splice_fd_in, u64 addr3, u64 pad.
 */
const SQE = { size: 64, opcode: 0, fd: 4, off: 8, addr: 16, len: 24, rwFlags: 28, userData: 32 } as const;
/** struct io_uring_cqe, 16 bytes: u64 user_data, s32 res, u32 flags. */
const CQE = { size: 16, userData: 0, res: 8 } as const;

function u32(view: DataView, offset: number): number {
  return view.getUint32(offset, true);
}

/**
 * One ring whose submission entries are owned by index: the caller prepares entry `i` once (or
 * again when it changes), queues entries by index, then submits them all and waits for all their
 * completions in one io_uring_enter. Nothing is left in flight between calls. close() is idempotent.
 */
export class IoUring {
  readonly fd: number;
  readonly entries: number;
  readonly #rings: { address: number; length: number };
  readonly #sqes: { address: number; length: number };
  readonly #ring: Uint32Array;
  readonly #cqes: DataView;
  readonly #sqeView: DataView;
  readonly #sq: { head: number; tail: number; mask: number; array: number };
  readonly #cq: { head: number; tail: number; mask: number; cqes: number };
  #queued = 0;
  #closed = false;

  /** throws SysError (ENOSYS: no io_uring; EPERM: io_uring_disabled; ENOMEM, ...). */
  constructor(entries: number) {
    const params = new Uint8Array(PARAMS.size);
    const view = new DataView(params.buffer);
    this.fd = setUp(entries, params);
    try {
      if ((u32(view, PARAMS.features) & IORING_FEAT_SINGLE_MMAP) === 0) {
        throw new SysError("io_uring_setup", 0, "this kernel maps the two rings apart (no IORING_FEAT_SINGLE_MMAP)", "");
      }
      this.entries = u32(view, PARAMS.sqEntries);
      const sqLength = u32(view, PARAMS.sq.array) + this.entries * 4;
      const cqLength = u32(view, PARAMS.cq.cqes) + u32(view, PARAMS.cqEntries) * CQE.size;
      const ringLength = Math.max(sqLength, cqLength);
      // One mapping holds both rings (IORING_FEAT_SINGLE_MMAP): the CQ ring's offsets count from the same start.
      const rings = mapShared(this.fd, IORING_OFF_SQ_RING, ringLength, "io_uring rings");
      this.#rings = { address: rings.address, length: ringLength };
      const sqes = mapShared(this.fd, IORING_OFF_SQES, this.entries * SQE.size, "io_uring sqes");
      this.#sqes = { address: sqes.address, length: this.entries * SQE.size };
      this.#ring = new Uint32Array(rings.buffer);
      this.#cqes = new DataView(rings.buffer);
      this.#sqeView = new DataView(sqes.buffer);
      const ringWord = (offset: number) => u32(view, offset) / 4;
      this.#sq = { head: ringWord(PARAMS.sq.head), tail: ringWord(PARAMS.sq.tail), mask: this.#ring[ringWord(PARAMS.sq.ringMask)] ?? 0, array: ringWord(PARAMS.sq.array) };
      this.#cq = { head: ringWord(PARAMS.cq.head), tail: ringWord(PARAMS.cq.tail), mask: this.#ring[ringWord(PARAMS.cq.ringMask)] ?? 0, cqes: u32(view, PARAMS.cq.cqes) };
    } catch (err) {
      closeFd(this.fd);
      throw err;
    }
  }

  /**
   * Prepares entry `index`: `opcode` on `fd` with `address` and `length` and RWF_ flags `rwFlags`; its
   * completion carries `userData`.
   */
  prepare(index: number, opcode: number, fd: number, address: number, length: number, rwFlags: number, userData: number): void {
    const at = index * SQE.size;
    const view = this.#sqeView;
    for (let offset = 0; offset < SQE.size; offset += 4) view.setUint32(at + offset, 0, true);
    view.setUint8(at + SQE.opcode, opcode);
    view.setInt32(at + SQE.fd, fd, true);
    view.setBigInt64(at + SQE.off, -1n, true); // the file's own position: a TAP has none
    view.setUint32(at + SQE.addr, address % 0x100000000, true);
    view.setUint32(at + SQE.addr + 4, Math.floor(address / 0x100000000), true);
    view.setUint32(at + SQE.len, length, true);
    view.setUint32(at + SQE.rwFlags, rwFlags, true);
    view.setUint32(at + SQE.userData, userData, true);
  }

  /** Queues prepared entry `index` for the next submit. */
  queue(index: number): void {
    const tail = (this.#ring[this.#sq.tail] ?? 0) + this.#queued;
    this.#ring[this.#sq.array + (tail & this.#sq.mask)] = index;
    this.#queued += 1;
  }

  /**
   * Submits what is queued and waits until every one of them has completed; then completion k
   * (0 <= k < the count returned) is read with completionData/completionResult, and all are released
   * by the next submit. Returns the count, or minus errno when io_uring_enter fails.
   */
  submitAndWait(): number {
    const ring = this.#ring;
    const wanted = this.#queued;
    ring[this.#cq.head] = ring[this.#cq.tail] ?? 0; // release the previous batch's completions
    Atomics.store(ring, this.#sq.tail, (ring[this.#sq.tail] ?? 0) + wanted);
    this.#queued = 0;
    let toSubmit = wanted;
    while (this.completions() < wanted) {
      const n = syscallOrErrno(SYS_io_uring_enter, this.fd, toSubmit, wanted - this.completions(), IORING_ENTER_GETEVENTS, 0, 0);
      if (n >= 0) toSubmit = Math.max(0, toSubmit - n);
      else if (n !== -EINTR) return n;
    }
    return wanted;
  }

  /** Completions posted since the last submit. */
  completions(): number {
    return ((Atomics.load(this.#ring, this.#cq.tail) - (this.#ring[this.#cq.head] ?? 0)) >>> 0);
  }

  completionData(k: number): number {
    return this.#cqes.getUint32(this.#cqeOffset(k) + CQE.userData, true);
  }

  completionResult(k: number): number {
    return this.#cqes.getInt32(this.#cqeOffset(k) + CQE.res, true);
  }

  #cqeOffset(k: number): number {
    return this.#cq.cqes + (((this.#ring[this.#cq.head] ?? 0) + k) & this.#cq.mask) * CQE.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    unmap(this.#sqes.address, this.#sqes.length);
    unmap(this.#rings.address, this.#rings.length);
    closeFd(this.fd);
  }
}

/** io_uring_setup with the flags that save work for a ring used by one thread, without them on kernels before 6.0. */
function setUp(entries: number, params: Uint8Array): number {
  const view = new DataView(params.buffer);
  for (const flags of [IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER, 0]) {
    params.fill(0);
    view.setUint32(PARAMS.flags, flags, true);
    try {
      return syscallWithBuffer(SYS_io_uring_setup, entries, params, "io_uring_setup");
    } catch (err) {
      if (!(err instanceof SysError) || flags === 0 || err.errno !== EINVAL /* flags this kernel lacks */) throw err;
    }
  }
  throw new SysError("io_uring_setup", EINVAL, describeErrno(EINVAL), "");
}
