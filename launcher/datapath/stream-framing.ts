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
 * out as (frameOffset, frameLength) into the same buffer with at least HEADROOM bytes before them, so
 * nothing is copied on the way to the TAP and nothing is allocated per frame. Bounded: never more than
 * `capacity` bytes are held.
 */
export class StreamReassembly {
  readonly buffer: Uint8Array;
  private readonly view: DataView;
  /** Unconsumed bytes are [start, end). */
  start = HEADROOM;
  end = HEADROOM;
  /** Where the frame the last successful next() found lies; valid until the next room(). */
  frameOffset = 0;
  frameLength = 0;

  constructor(capacity: number) {
    if (capacity < 4 + MAX_STREAM_FRAME) throw new RangeError("the reassembly buffer must hold the largest frame");
    this.buffer = new Uint8Array(HEADROOM + capacity);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Bytes held and not yet returned as frames. */
  get held(): number {
    return this.end - this.start;
  }

  /**
   * Takes the next complete frame (then frameOffset and frameLength say where it is): false when more
   * bytes are needed. throws FramingError.
   */
  next(): boolean {
    if (this.end - this.start < 4) return false;
    const length = this.view.getUint32(this.start, false);
    if (length > MAX_STREAM_FRAME) throw new FramingError(length);
    if (this.end - this.start - 4 < length) return false;
    this.frameOffset = this.start + 4;
    this.frameLength = length;
    this.start = this.frameOffset + length;
    return true;
  }

  /**
   * Makes room for a read: moves held bytes to the front when the rest of the buffer could not take
   * the largest frame. Frames taken before are invalid afterwards. Returns the room at `end`.
   */
  room(): number {
    if (this.start === this.end) this.start = this.end = HEADROOM;
    if (this.start > HEADROOM && this.buffer.byteLength - this.end < 4 + MAX_STREAM_FRAME) {
      this.buffer.copyWithin(HEADROOM, this.start, this.end);
      this.end -= this.start - HEADROOM;
      this.start = HEADROOM;
    }
    return this.buffer.byteLength - this.end;
  }

  /** Records `count` bytes read in at `end`. */
  added(count: number): void {
    this.end += count;
  }
}
