// TAP -> guest: a batch of frames read from the TAP into fixed slots, then one writev (stream) or one sendmmsg (dgram).
//
// When the guest does not take the whole batch, the TAP is not read until it has (the kernel then
// drops at the TAP, as under QEMU): what waits is bounded by one batch.
import { EAGAIN, EINTR, ENOBUFS } from "../../shared/errno.ts";
import { IovecTable, MessageTable } from "../../shared/iovec.ts";
import { MSG_NOSIGNAL } from "../../shared/kernel.ts";
import { addressOf } from "../../shared/libc.ts";
import { sendMessagesAtOrErrno, writevAtOrErrno } from "../../shared/libc-launcher.ts";
import type { DirectionCounters } from "./counters.ts";
import { guestEnded, isGuestGone, tapEnded } from "./relay-end.ts";
import type { RelayState } from "./relay-state.ts";
import { BATCH } from "./tap-port.ts";

/** Room for the largest frame a TAP hands over (MTU 65521 + 14) with its virtio-net header, and slack. */
export const FRAME_ROOM = 65600;
/**
 * Where a frame starts in its slot. The virtio-net header is read in just before it; the stream's
 * 4-byte length goes in the 4 bytes before the frame, over the header's tail once it has been looked at.
 */
const FRAME_AT = 16;
const SLOT = FRAME_AT + FRAME_ROOM;

/** The batch on its way to the guest: frames in slots, iovec `k` (and message `k`) for the k-th frame kept. */
export class ToGuestQueue {
  readonly slots = new Uint8Array(BATCH * SLOT);
  readonly slotsAddress = addressOf(this.slots);
  readonly slotsView = new DataView(this.slots.buffer);
  /** What each TAP read returned. */
  readonly readResults = new Int32Array(BATCH);
  readonly iovecs = new IovecTable(BATCH);
  readonly messages = new MessageTable(this.iovecs);
  /** Frames in the batch; [sent, count) are not (fully) sent yet. */
  count = 0;
  sent = 0;
  /** Frame bytes in the batch, and bytes (with stream lengths) still to write. */
  frameBytes = 0;
  waiting = 0;

  /** Adds `size` bytes at `address` to the batch, `frameBytes` of them frame. */
  add(address: number, size: number, frameBytes: number, counters: DirectionCounters): void {
    this.iovecs.set(this.count, address, size);
    this.count += 1;
    this.frameBytes += frameBytes;
    this.waiting += size;
    counters.queueHighWater = Math.max(counters.queueHighWater, this.waiting);
  }

  /** Takes `n` written bytes off the front: whole iovecs, then the start of a partly written one. */
  consume(n: number): void {
    this.waiting -= n;
    while (n > 0) {
      const length = this.iovecs.length(this.sent);
      if (n < length) {
        this.iovecs.set(this.sent, this.iovecs.base(this.sent) + n, length - n);
        return;
      }
      n -= length;
      this.sent += 1;
    }
  }

  reset(): void {
    this.count = this.sent = this.frameBytes = this.waiting = 0;
  }
}

/** Reads a batch from the TAP into the slots: how many slots to look at with slotFrame(). */
function readBatch(relay: RelayState): number {
  const vnet = relay.settings.vnetHeaderLength;
  const queue = relay.toGuest;
  return relay.tap.readFrames(queue.slotsAddress + FRAME_AT - vnet, SLOT, FRAME_ROOM + vnet, BATCH, queue.readResults);
}

/**
 * The length of the frame in slot `i` after readBatch(), or -1 when there is none (EAGAIN) or it is
 * dropped (counted). throws RelayStop when the TAP is gone or failed.
 */
function slotFrame(relay: RelayState, i: number): number {
  const vnet = relay.settings.vnetHeaderLength;
  const queue = relay.toGuest;
  const n = queue.readResults[i] ?? -EAGAIN;
  if (n === -EAGAIN) return -1;
  if (n < 0) throw tapEnded("read", -n);
  const length = n - vnet;
  // A GSO frame (gso_type, byte 1 of the header, set: offloads were on) exceeds the MTU; the guest could not take it.
  if (length <= 0) {
    relay.counters.tapToGuest.drops.short += 1;
    return -1;
  }
  if (vnet > 0 && queue.slots[i * SLOT + FRAME_AT - vnet + 1] !== 0) {
    relay.counters.tapToGuest.drops.gso += 1;
    return -1;
  }
  return length;
}

export function tapToGuestStream(relay: RelayState): void {
  const queue = relay.toGuest;
  const capture = relay.capture;
  const tried = readBatch(relay);
  for (let i = 0; i < tried; i += 1) {
    const length = slotFrame(relay, i);
    if (length < 0) continue;
    if (capture !== null) capture.frame(queue.slots, i * SLOT + FRAME_AT, length);
    const prefix = i * SLOT + FRAME_AT - 4;
    queue.slotsView.setUint32(prefix, length, false);
    queue.add(queue.slotsAddress + prefix, 4 + length, length, relay.counters.tapToGuest);
  }
  flushToGuestStream(relay);
}

/** Writes the batch with as few writev() calls as the guest's socket allows; counts it once it is all out. */
export function flushToGuestStream(relay: RelayState): void {
  const queue = relay.toGuest;
  while (queue.sent < queue.count) {
    const n = writevAtOrErrno(relay.settings.guestFd, queue.iovecs.addressOf(queue.sent), queue.count - queue.sent);
    if (n > 0) queue.consume(n);
    else if (n === -EAGAIN) return;
    else if (n !== -EINTR) throw guestEnded("writev", -n);
  }
  const counters = relay.counters.tapToGuest;
  counters.frames += queue.count;
  counters.bytes += queue.frameBytes;
  queue.reset();
}

export function tapToGuestDgram(relay: RelayState): void {
  const queue = relay.toGuest;
  const capture = relay.capture;
  const tried = readBatch(relay);
  for (let i = 0; i < tried; i += 1) {
    const length = slotFrame(relay, i);
    if (length < 0) continue;
    if (capture !== null) capture.frame(queue.slots, i * SLOT + FRAME_AT, length);
    queue.add(queue.slotsAddress + i * SLOT + FRAME_AT, length, length, relay.counters.tapToGuest);
  }
  flushToGuestDgram(relay);
}

/** Sends the batch's datagrams with as few sendmmsg() calls as the guest's socket allows. */
export function flushToGuestDgram(relay: RelayState): void {
  const queue = relay.toGuest;
  const counters = relay.counters.tapToGuest;
  while (queue.sent < queue.count) {
    const n = sendMessagesAtOrErrno(relay.settings.guestFd, queue.messages.addressOf(queue.sent), queue.count - queue.sent, MSG_NOSIGNAL);
    if (n === -EINTR) continue;
    if (n === -EAGAIN || n === -ENOBUFS) return;
    if (n < 0 && isGuestGone(-n)) throw guestEnded("sendmmsg", -n);
    const sent = n > 0 ? n : 1;
    for (let k = queue.sent; k < queue.sent + sent; k += 1) {
      const length = queue.iovecs.length(k);
      queue.waiting -= length;
      if (n > 0) {
        counters.frames += 1;
        counters.bytes += length;
      } else {
        counters.drops.refused += 1; // EMSGSIZE and the like: this datagram cannot be sent
      }
    }
    queue.sent += sent;
  }
  queue.reset();
}
