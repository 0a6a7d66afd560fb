// The relay's packet capture: classic pcap (LINKTYPE_ETHERNET, microsecond stamps), buffered, stopped at a size bound.
//
// Only the Worker writes records; the launcher made the file and wrote its header (launcher/capture-file.ts).
import { EINTR, EIO, errnoName } from "../../shared/errno.ts";
import { writeOrErrno } from "../../shared/libc.ts";

/** The pcap file header's length; a capture file is never shorter. */
export const PCAP_HEADER_LENGTH = 24;
/** Each record: ts_sec, ts_usec, incl_len, orig_len. */
const RECORD_HEADER_LENGTH = 16;
/** pcap's magic for microsecond timestamps; written in the host's order, which readers detect by it. */
const PCAP_MAGIC = 0xa1b2c3d4;
/** <pcap/dlt.h> DLT_EN10MB, the link type of Ethernet frames. */
const LINKTYPE_ETHERNET = 1;
/** tcpdump's default snap length: above any frame the relay moves (69632 bytes at most), so frames are kept whole. */
const SNAPLEN = 262144;
/** Records wait here until the end of a wake-up: one write() per wake-up, never one per frame. */
const BUFFER_SIZE = 1 << 20;

/** What the Worker needs to capture: the file (open for writing, header written), its name and its bound. */
export interface CaptureSettings {
  fd: number;
  path: string;
  /** The most bytes the file may hold, header included. */
  limit: number;
}

/** The 24-byte pcap file header (version 2.4, no time-zone offset, Ethernet), in the host's byte order. */
export function pcapFileHeader(): Uint8Array {
  const header = new Uint8Array(PCAP_HEADER_LENGTH);
  const view = new DataView(header.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  view.setUint32(0, PCAP_MAGIC, little);
  view.setUint16(4, 2, little);
  view.setUint16(6, 4, little);
  view.setUint32(16, SNAPLEN, little);
  view.setUint32(20, LINKTYPE_ETHERNET, little);
  return header;
}

/**
 * Appends frames to a capture file as pcap records. The file holds only whole records and never more
 * than `limit` bytes: the first record that would pass the bound stops the capture for good (the
 * beginning is kept), and so does a failed write; `notice` is told once, and the relay goes on.
 */
export class CaptureSink {
  readonly #buffer = new Uint8Array(BUFFER_SIZE);
  readonly #view = new DataView(this.#buffer.buffer);
  readonly #little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  /** Bytes waiting in the buffer, and bytes already in the file (the header included). */
  #used = 0;
  #written = PCAP_HEADER_LENGTH;
  #stopped = false;

  constructor(
    private readonly settings: CaptureSettings,
    private readonly notice: (message: string) => void,
  ) {}

  /** Records `length` bytes of `source` from `offset`, stamped now. */
  frame(source: Uint8Array, offset: number, length: number): void {
    if (this.#stopped) return;
    const size = RECORD_HEADER_LENGTH + length;
    if (this.#written + this.#used + size > this.settings.limit) {
      this.flush();
      if (this.#stopped) return;
      this.#stop();
      this.notice(
        `capture stopped at the size bound: ${this.settings.path} holds ${this.#written} bytes and --pcap-size is ${this.settings.limit}; the relay goes on`,
      );
      return;
    }
    if (this.#used + size > BUFFER_SIZE) {
      this.flush();
      if (this.#stopped) return;
    }
    const now = performance.timeOrigin + performance.now();
    const seconds = Math.floor(now / 1000);
    const at = this.#used;
    this.#view.setUint32(at, seconds, this.#little);
    this.#view.setUint32(at + 4, Math.min(999_999, Math.floor((now - seconds * 1000) * 1000)), this.#little);
    this.#view.setUint32(at + 8, length, this.#little);
    this.#view.setUint32(at + 12, length, this.#little);
    this.#buffer.set(source.subarray(offset, offset + length), at + RECORD_HEADER_LENGTH);
    this.#used += size;
  }

  /** Writes the waiting records to the file. */
  flush(): void {
    let from = 0;
    while (from < this.#used && !this.#stopped) {
      const n = writeOrErrno(this.settings.fd, from === 0 ? this.#buffer : this.#buffer.subarray(from), this.#used - from);
      if (n === -EINTR) continue;
      if (n > 0) {
        from += n;
        continue;
      }
      this.#stop();
      this.notice(`capture stopped: failed to write ${this.settings.path}: ${errnoName(n < 0 ? -n : EIO)}; the relay goes on`);
    }
    this.#written += from;
    this.#used = 0;
  }

  /** Ends the capture for good; the caller says why, once. */
  #stop(): void {
    this.#stopped = true;
    this.#used = 0;
  }
}
