// QEMU's stream framing (-netdev stream/socket): each frame is a 4-byte big-endian length, then the frame.

/** QEMU's NET_BUFSIZE: a longer length cannot be a frame, and ends the connection as in net_fill_rstate. */
export const MAX_STREAM_FRAME = 4096 + 65536;
/** Room kept before the data so a 10-byte virtio-net header can be written in front of any frame. */
export const HEADROOM = 16;

/** The guest sent a length no frame can have. */
export class FramingError extends Error {
  constructor(readonly length: number) {
    super(`the guest sent a frame length of ${length} bytes (at most ${MAX_STREAM_FRAME})`);
    this.name = "FramingError";
  }
}

/**
 * Reassembles frames from stream reads in one fixed buffer: bytes are read in at `end`, frames come
 * out as (offset, length) into the same buffer with at least HEADROOM bytes before them, so nothing is
 * copied on the way to the TAP. Bounded: never more than `capacity` bytes are held.
 */
export class StreamReassembly {
  readonly buffer: Uint8Array;
  private readonly view: DataView;
  /** Unconsumed bytes are [start, end). */
  start = HEADROOM;
  end = HEADROOM;

  constructor(capacity: number) {
    if (capacity < 4 + MAX_STREAM_FRAME) throw new RangeError("the reassembly buffer must hold the largest frame");
    this.buffer = new Uint8Array(HEADROOM + capacity);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Bytes held and not yet returned as frames. */
  get held(): number {
    return this.end - this.start;
  }

  /** The next complete frame, or null when more bytes are needed. throws FramingError. */
  next(): { offset: number; length: number } | null {
    if (this.end - this.start < 4) return null;
    const length = this.view.getUint32(this.start, false);
    if (length > MAX_STREAM_FRAME) throw new FramingError(length);
    if (this.end - this.start - 4 < length) return null;
    const offset = this.start + 4;
    this.start = offset + length;
    if (this.start === this.end) this.start = this.end = HEADROOM;
    return { offset, length };
  }

  /** Moves held bytes to the front and returns where to read next and how much room there is. */
  room(): { offset: number; length: number } {
    if (this.start > HEADROOM && this.buffer.byteLength - this.end < 4 + MAX_STREAM_FRAME) {
      this.buffer.copyWithin(HEADROOM, this.start, this.end);
      this.end -= this.start - HEADROOM;
      this.start = HEADROOM;
    }
    return { offset: this.end, length: this.buffer.byteLength - this.end };
  }

  /** Records `count` bytes read in at room().offset. */
  added(count: number): void {
    this.end += count;
  }
}
