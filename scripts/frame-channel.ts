// Frames on one fd in the three forms a guest sees: a TAP with a vnet header, QEMU's stream framing, datagrams.
import { EAGAIN } from "../shared/errno.ts";
import { POLLIN, VIRTIO_NET_HDR_LEN } from "../shared/kernel-launcher.ts";
import { pollOneOrErrno, readOrErrno, writeOrErrno } from "../shared/libc.ts";

export type Framing = "tap" | "stream" | "dgram";

/** Sends and receives whole frames on `fd` (blocking or not), in `framing`. */
export class FrameChannel {
  readonly #fd: number;
  readonly #framing: Framing;
  readonly #prefix: number;
  readonly #input = new Uint8Array(1 << 20);
  #held = 0;

  constructor(fd: number, framing: Framing) {
    this.#fd = fd;
    this.#framing = framing;
    this.#prefix = framing === "tap" ? VIRTIO_NET_HDR_LEN : framing === "stream" ? 4 : 0;
  }

  /** Sends one frame (with a zeroed vnet header, or its stream length, in front). throws Error. */
  send(frame: Uint8Array): void {
    const out = new Uint8Array(this.#prefix + frame.length);
    if (this.#framing === "stream") new DataView(out.buffer).setUint32(0, frame.length, false);
    out.set(frame, this.#prefix);
    this.sendRaw(out);
  }

  /** Writes bytes as they are, waiting out EAGAIN: for deliberately broken streams too. throws Error. */
  sendRaw(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      const n = writeOrErrno(this.#fd, bytes.subarray(done));
      if (n === -EAGAIN) {
        Bun.sleepSync(1);
        continue;
      }
      if (n < 0) throw new Error(`write to fd ${this.#fd} failed: errno ${-n}`);
      done += n;
    }
  }

  /** Waits up to `timeoutMs` (-1: for ever) for the fd to be readable. */
  readable(timeoutMs: number): boolean {
    return pollOneOrErrno(this.#fd, POLLIN, timeoutMs) > 0;
  }

  /** Reads whatever is there; 0 at the end. For watching a connection close. */
  readRaw(): number {
    return readOrErrno(this.#fd, this.#input);
  }

  /** The next frame, or null at the end of the connection or when none comes within `timeoutMs`. */
  receive(timeoutMs: number): Uint8Array | null {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#framing === "stream" && this.#held >= 4) {
        const length = new DataView(this.#input.buffer).getUint32(0, false);
        if (this.#held >= 4 + length) {
          const frame = this.#input.slice(4, 4 + length);
          this.#input.copyWithin(0, 4 + length, this.#held);
          this.#held -= 4 + length;
          return frame;
        }
      }
      const left = deadline - performance.now();
      if (left <= 0 || !this.readable(Math.ceil(left))) return null;
      const n = readOrErrno(this.#fd, this.#input.subarray(this.#framing === "stream" ? this.#held : 0));
      if (n <= 0) return null;
      if (this.#framing !== "stream") return this.#input.slice(this.#prefix, n);
      this.#held += n;
    }
  }
}
