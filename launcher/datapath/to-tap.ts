// guest -> TAP: frames from one large stream read or one recvmmsg, written to the TAP a batch at a time.
//
// When the TAP does not take more, the guest is not read until it has: what waits is bounded by
// the reassembly buffer (stream) or one batch of datagrams.
import { EAGAIN, EBADFD, EINTR } from "../../shared/errno.ts";
import { IovecTable, MessageTable } from "../../shared/iovec.ts";
import { ETH_HLEN, MSG_TRUNC } from "../../shared/kernel-launcher.ts";
import { addressOf } from "../../shared/libc.ts";
import { readAtOrErrno, receiveMessagesAtOrErrno } from "../../shared/libc-launcher.ts";
import { guestClosed, guestEnded, RelayStop, tapEnded } from "./relay-end.ts";
import type { RelayState } from "./relay-state.ts";
import { FramingError, type StreamReassembly } from "./stream-framing.ts";
import { BATCH, TapWriteBatch } from "./tap-port.ts";
import { FRAME_ROOM } from "./to-guest.ts";

/** Frames taken from the guest on their way to the TAP: [next, count) of `batch` are not written yet. */
export class ToTapQueue {
  readonly batch: TapWriteBatch;
  count = 0;
  next = 0;
  /** A full batch was taken and more complete frames may be held (stream): come back without waiting. */
  backlog = false;

  constructor(vnetHeaderLength: number) {
    this.batch = new TapWriteBatch(vnetHeaderLength);
  }

  /** Nothing waits for the TAP. */
  get idle(): boolean {
    return this.next === this.count;
  }
}

/** Where recvmmsg() puts a batch of datagrams: one slot each, message `i` into slot `i`. */
export class DatagramSlots {
  readonly slots = new Uint8Array(BATCH * FRAME_ROOM);
  readonly address = addressOf(this.slots);
  readonly iovecs = new IovecTable(BATCH);
  readonly messages = new MessageTable(this.iovecs);

  constructor() {
    for (let i = 0; i < BATCH; i += 1) this.iovecs.set(i, this.address + i * FRAME_ROOM, FRAME_ROOM);
  }
}

/** Writes what waits for the TAP; true when nothing is left (false: the TAP is full). throws RelayStop. */
export function flushToTap(relay: RelayState): boolean {
  const queue = relay.toTap;
  const counters = relay.counters.guestToTap;
  const reached = relay.tap.writeFrames(queue.batch, queue.next, queue.count);
  for (let i = queue.next; i < reached; i += 1) {
    const n = queue.batch.results[i] ?? 0;
    if (n >= 0) {
      counters.frames += 1;
      counters.bytes += queue.batch.length(i);
    } else if (n === -EBADFD) {
      throw tapEnded("write", EBADFD);
    } else {
      counters.drops.refused += 1; // EIO (the TAP is down), EINVAL and the like: the kernel refused this frame
    }
  }
  queue.next = reached;
  if (reached < queue.count) return false;
  queue.next = queue.count = 0;
  return true;
}

/** Takes up to a batch of complete frames from `stream`; false when it held none. throws RelayStop(guest-protocol). */
function takeFrames(relay: RelayState, stream: StreamReassembly, address: number): boolean {
  const queue = relay.toTap;
  const capture = relay.capture;
  let found = false;
  try {
    while (queue.count < BATCH && stream.next()) {
      found = true;
      if (stream.frameLength < ETH_HLEN) {
        relay.counters.guestToTap.drops.short += 1; // empty, or shorter than an Ethernet header
        continue;
      }
      if (capture !== null) capture.frame(stream.buffer, stream.frameOffset, stream.frameLength);
      queue.batch.set(queue.count++, address + stream.frameOffset, stream.frameLength);
    }
  } catch (err) {
    if (!(err instanceof FramingError)) throw err;
    const protocolError = new RelayStop({ reason: "guest-protocol", detail: err.message });
    try {
      flushToTap(relay); // the whole frames read before the bad length still go out
    } catch (flushError) {
      if (!(flushError instanceof RelayStop)) throw flushError; // the guest's error is the one to report
    }
    throw protocolError;
  }
  queue.backlog = queue.count === BATCH && stream.held >= 4;
  return found;
}

/** One batch of the frames already held, or else one read from the guest (many frames) and a batch of those. */
export function guestToTapStream(relay: RelayState, stream: StreamReassembly, address: number): void {
  if (!flushToTap(relay)) return;
  if (!takeFrames(relay, stream, address)) {
    const room = stream.room();
    const n = readAtOrErrno(relay.settings.guestFd, address + stream.end, room);
    if (n === 0) throw guestClosed();
    if (n === -EAGAIN || n === -EINTR) return;
    if (n < 0) throw guestEnded("read", -n);
    stream.added(n);
    const counters = relay.counters.guestToTap;
    counters.queueHighWater = Math.max(counters.queueHighWater, stream.held);
    takeFrames(relay, stream, address);
  }
  flushToTap(relay);
}

/** One recvmmsg() of up to a batch of datagrams, written to the TAP. */
export function guestToTapDgram(relay: RelayState, datagrams: DatagramSlots): void {
  if (!flushToTap(relay)) return;
  const queue = relay.toTap;
  const counters = relay.counters.guestToTap;
  const capture = relay.capture;
  // MSG_TRUNC: msg_len is the datagram's real size, so one cut short by the slot is seen and dropped.
  const n = receiveMessagesAtOrErrno(relay.settings.guestFd, datagrams.messages.address, BATCH, MSG_TRUNC);
  if (n === -EAGAIN || n === -EINTR) return;
  if (n < 0) throw guestEnded("recvmmsg", -n);
  let bytes = 0;
  for (let i = 0; i < n; i += 1) {
    const length = datagrams.messages.length(i);
    if (length < ETH_HLEN) {
      counters.drops.short += 1;
      continue;
    }
    if (length > FRAME_ROOM) {
      counters.drops.tooLong += 1; // cut short by the slot
      continue;
    }
    if (capture !== null) capture.frame(datagrams.slots, i * FRAME_ROOM, length);
    queue.batch.set(queue.count++, datagrams.address + i * FRAME_ROOM, length);
    bytes += length;
  }
  counters.queueHighWater = Math.max(counters.queueHighWater, bytes);
  flushToTap(relay);
}
