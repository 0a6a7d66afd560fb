// The TAP engine that submits a whole batch of TAP writes in one io_uring_enter: fewer than one system call per frame towards the TAP.
//
// Writes only: batched io_uring reads of the TAP measured no cheaper than one read() per frame (the
// TAP cannot say how many frames it holds, so a batch of reads pays for empty ones), so reads stay
// one read() each, as in SyscallTapPort. Entry i writes frame i of the write batch, a writev over its
// iovecs (which change while the entry does not). Every entry carries RWF_NOWAIT: entries then run
// inline and in order, so frames keep their order, and every submit returns with all completions:
// nothing is in flight between calls. A write the TAP refuses with EAGAIN (its send buffer full,
// which tun's default unlimited buffer never is) is counted as a drop, not retried, because the
// writes after it have already gone.
import { IoUring } from "../../shared/io-uring.ts";
import { IORING_OP_WRITEV, RWF_NOWAIT } from "../../shared/kernel.ts";
import { waitFailed } from "./relay-end.ts";
import { BATCH, SyscallTapPort, type TapPort, type TapWriteBatch } from "./tap-port.ts";

export class UringTapPort implements TapPort {
  readonly name = "io_uring";
  readonly #ring: IoUring;
  readonly #reads: SyscallTapPort;
  #preparedFor: TapWriteBatch | null = null;

  /** throws SysError when the kernel has no io_uring or refuses it. */
  constructor(private readonly fd: number) {
    this.#ring = new IoUring(BATCH);
    this.#reads = new SyscallTapPort(fd);
  }

  readFrames(address: number, stride: number, room: number, count: number, results: Int32Array): number {
    return this.#reads.readFrames(address, stride, room, count, results);
  }

  /** throws RelayStop(wait-failed) when io_uring_enter fails. */
  writeFrames(batch: TapWriteBatch, from: number, to: number): number {
    const ring = this.#ring;
    if (this.#preparedFor !== batch) {
      for (let i = 0; i < BATCH; i += 1) ring.prepare(i, IORING_OP_WRITEV, this.fd, batch.vector(i), batch.vectorCount, RWF_NOWAIT, i);
      this.#preparedFor = batch;
    }
    for (let i = from; i < to; i += 1) ring.queue(i);
    const done = ring.submitAndWait();
    if (done < 0) throw waitFailed("io_uring_enter", -done);
    for (let k = 0; k < done; k += 1) batch.results[ring.completionData(k)] = ring.completionResult(k);
    return to;
  }

  close(): void {
    this.#ring.close();
  }
}
