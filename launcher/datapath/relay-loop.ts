// The relay's event loop, run in a Worker: frames between a TAP fd and the guest's socket, by readiness.
//
// One read() of the TAP is one frame. Each wake-up moves at most `budget` frames per direction, so
// neither starves the other. When the guest cannot take more, the TAP is not read until it drains
// (the kernel then drops at the TAP, as under QEMU); when the TAP cannot take more, the guest is not
// read. What the relay holds is bounded by fixed buffers allocated once, whatever the input.
import { EAGAIN, EINTR } from "../../shared/errno.ts";
import {
  EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_EVENT_SIZE, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT,
  EPOLLPRI, MSG_TRUNC,
} from "../../shared/kernel.ts";
import {
  addressOf, closeFd, epollControl, epollCreate, epollWaitOrErrno, readOrErrno, readvOrErrno, receiveAtOrErrno,
  writeAtOrErrno,
} from "../../shared/libc.ts";
import { emptyCounters, type RelayCounters } from "./counters.ts";
import { FramingError, HEADROOM, StreamReassembly } from "./stream-framing.ts";

export type RelayMode = "stream" | "dgram";

export interface RelaySettings {
  tapFd: number;
  guestFd: number;
  /** Read end of a pipe: CONTROL_STOP ends the loop, CONTROL_COUNTERS asks for a report. */
  controlFd: number;
  mode: RelayMode;
  /** 10 when the TAP has IFF_VNET_HDR: stripped towards the guest, zeroed and prepended towards the TAP. */
  vnetHeaderLength: number;
  /** Frames per wake-up per direction (QEMU's tap.c uses 50). */
  budget: number;
}

export type RelayEndReason = "stopped" | "guest-closed" | "tap-gone" | "guest-protocol";

export interface RelayEnd {
  reason: RelayEndReason;
  detail: string;
}

export const CONTROL_STOP = 0x73; // "s"
export const CONTROL_COUNTERS = 0x63; // "c"

/** Room for the largest frame a TAP can hand over (MTU 65521 + 14), with slack. */
const FRAME_ROOM = 65600;
/** How much a stream read from the guest may bring at once. */
const GUEST_READ_ROOM = 256 * 1024;
// errno values the loop tells apart (<asm-generic/errno.h>)
const EBADFD = 77;
const EPIPE = 32;
const ECONNRESET = 104;
const ECONNREFUSED = 111;
const ENOTCONN = 107;

class RelayStop extends Error {
  constructor(readonly end: RelayEnd) {
    super(end.detail);
  }
}

const tapGone = (call: string, errno: number) =>
  new RelayStop({ reason: "tap-gone", detail: `the TAP went away (${call}: errno ${errno}); was it deleted (ip link del)?` });
const guestClosed = (what: string) => new RelayStop({ reason: "guest-closed", detail: what });

/** Writes `value` (an address below 2^53) as a little-endian u64 without a BigInt. */
function setAddress(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x100000000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x100000000), true);
}

/**
 * Runs until stopped, the guest closes, the TAP goes away or the guest breaks the framing. Calls
 * `report` with the counters whenever CONTROL_COUNTERS arrives. Closes nothing it was given.
 */
export function runRelay(settings: RelaySettings, report: (counters: RelayCounters) => void): { end: RelayEnd; counters: RelayCounters } {
  const { tapFd, guestFd, controlFd, mode, vnetHeaderLength: vnet, budget } = settings;
  const counters = emptyCounters();
  const toGuest = counters.tapToGuest;
  const toTap = counters.guestToTap;

  // Long-lived buffers; their addresses are taken once (small or moving arrays could go stale).
  const arena = new Uint8Array(4096);
  const arenaAddress = addressOf(arena);
  const arenaView = new DataView(arena.buffer);
  const IOV = 0; // two struct iovec: the vnet header to scratch, then the frame
  const SCRATCH = 64; // where TAP vnet headers land
  const events = new Uint8Array(EPOLL_EVENT_SIZE * 8);
  const eventsView = new DataView(events.buffer);
  const registration = new Uint8Array(EPOLL_EVENT_SIZE);
  const registrationView = new DataView(registration.buffer);
  // TAP -> guest: frames go straight into this batch (stream: after their 4-byte length).
  const batch = new Uint8Array(mode === "stream" ? budget * (4 + FRAME_ROOM) : FRAME_ROOM);
  const batchAddress = addressOf(batch);
  const batchView = new DataView(batch.buffer);
  // guest -> TAP
  const reassembly = mode === "stream" ? new StreamReassembly(GUEST_READ_ROOM + 4 + FRAME_ROOM) : null;
  // dgram: each datagram lands at HEADROOM; [HEADROOM - vnet, HEADROOM) stays zero for the TAP.
  const fromGuest = reassembly !== null ? reassembly.buffer : new Uint8Array(HEADROOM + FRAME_ROOM);
  const fromGuestAddress = addressOf(fromGuest);
  const control = new Uint8Array(64);

  // TAP -> guest state: bytes [batchSent, batchFill) wait for the guest; the batch's frames and
  // bytes count as delivered once all of it is written.
  let batchFill = 0;
  let batchSent = 0;
  let batchFrames = 0;
  let batchBytes = 0;
  // guest -> TAP state: a frame the TAP refused with EAGAIN, kept to retry.
  let tapPending: { offset: number; length: number } | null = null;
  let backlog = false; // complete frames held beyond this wake-up's budget

  const epollFd = epollCreate(EPOLL_CLOEXEC);
  const interest = new Map<number, number>();
  /** Sets the events wanted from `fd`; 0 takes it out of the set (its EPOLLHUP would wake us forever). */
  function want(fd: number, flags: number): void {
    const before = interest.get(fd) ?? 0;
    if (before === flags) return;
    registrationView.setUint32(0, flags, true);
    setAddress(registrationView, 4, fd);
    const operation = flags === 0 ? EPOLL_CTL_DEL : before === 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    epollControl(epollFd, operation, fd, registration);
    interest.set(fd, flags);
  }

  function updateInterest(): void {
    const guestWaiting = batchFill > batchSent;
    // The TAP stays in the set (EPOLLPRI, which tun never raises, holds its place), so that its
    // deletion wakes the loop even while neither direction wants it.
    want(tapFd, (guestWaiting ? EPOLLPRI : EPOLLIN) | (tapPending !== null ? EPOLLOUT : 0));
    want(guestFd, (tapPending !== null || backlog ? 0 : EPOLLIN) | (guestWaiting ? EPOLLOUT : 0));
  }

  /** A zero-length read takes no frame from a live TAP and fails with EBADFD once it is deleted. */
  function checkTapAlive(): void {
    const n = readOrErrno(tapFd, control, 0);
    if (n === -EBADFD) throw tapGone("read", EBADFD);
  }

  /** Reads one TAP frame to `address` (vnet header to scratch): frame length, or null on EAGAIN. */
  function readTapFrame(address: number): number | null {
    setAddress(arenaView, IOV, arenaAddress + SCRATCH);
    setAddress(arenaView, IOV + 8, vnet);
    setAddress(arenaView, IOV + 16, address);
    setAddress(arenaView, IOV + 24, FRAME_ROOM);
    for (;;) {
      const n = readvOrErrno(tapFd, arena, 2);
      if (n >= 0) return n - vnet;
      if (n === -EINTR) continue;
      if (n === -EAGAIN) return null;
      throw tapGone("read", -n);
    }
  }

  /** A GSO frame (offloads were on) is larger than the MTU: the guest could not take it. */
  const isGso = () => vnet > 0 && arena[SCRATCH + 1] !== 0;

  function flushBatch(): void {
    while (batchSent < batchFill) {
      const n = writeAtOrErrno(guestFd, batchAddress + batchSent, batchFill - batchSent);
      if (n > 0) {
        batchSent += n;
        continue;
      }
      if (n === -EINTR) continue;
      if (n === -EAGAIN) break;
      throw guestClosed(`the guest's socket refused data (errno ${-n})`);
    }
    toGuest.queueHighWater = Math.max(toGuest.queueHighWater, batchFill - batchSent);
    if (batchSent === batchFill) {
      toGuest.frames += batchFrames;
      toGuest.bytes += batchBytes;
      batchSent = batchFill = batchFrames = batchBytes = 0;
    }
  }

  function tapToGuestStream(): void {
    for (let frames = 0; frames < budget; frames += 1) {
      const length = readTapFrame(batchAddress + batchFill + 4);
      if (length === null) break;
      if (isGso() || length <= 0) {
        toGuest.drops += 1;
        continue;
      }
      batchView.setUint32(batchFill, length, false);
      batchFill += 4 + length;
      batchFrames += 1;
      batchBytes += length;
    }
    toGuest.queueHighWater = Math.max(toGuest.queueHighWater, batchFill);
    flushBatch();
  }

  /** Sends the datagram held in the batch; false when the guest would block (it stays held). */
  function sendDatagram(): boolean {
    for (;;) {
      const n = writeAtOrErrno(guestFd, batchAddress, batchFill);
      if (n >= 0) {
        toGuest.frames += 1;
        toGuest.bytes += batchFill;
        batchFill = batchSent = 0;
        return true;
      }
      if (n === -EINTR) continue;
      if (n === -EAGAIN || n === -105 /* ENOBUFS */) return false;
      if (n === -ECONNREFUSED || n === -EPIPE || n === -ENOTCONN || n === -ECONNRESET) throw guestClosed("the guest's socket is closed");
      toGuest.drops += 1; // EMSGSIZE and the like: this frame cannot be sent
      batchFill = batchSent = 0;
      return true;
    }
  }

  function tapToGuestDatagram(): void {
    for (let frames = 0; frames < budget; frames += 1) {
      const length = readTapFrame(batchAddress);
      if (length === null) break;
      if (isGso() || length <= 0) {
        toGuest.drops += 1;
        continue;
      }
      batchFill = length;
      toGuest.queueHighWater = Math.max(toGuest.queueHighWater, length);
      if (!sendDatagram()) break;
    }
  }

  /** Writes one frame at `offset` of the guest buffer to the TAP; false when the TAP would block. */
  function writeToTap(offset: number, length: number): boolean {
    if (vnet > 0) fromGuest.fill(0, offset - vnet, offset);
    for (;;) {
      const n = writeAtOrErrno(tapFd, fromGuestAddress + offset - vnet, length + vnet);
      if (n >= 0) {
        toTap.frames += 1;
        toTap.bytes += length;
        return true;
      }
      if (n === -EINTR) continue;
      if (n === -EAGAIN) return false;
      if (n === -EBADFD) throw tapGone("write", -n);
      toTap.drops += 1; // EIO (the TAP is down), EINVAL and the like: the kernel refused this frame
      return true;
    }
  }

  function guestToTapStream(stream: StreamReassembly): void {
    if (tapPending !== null) {
      if (!writeToTap(tapPending.offset, tapPending.length)) return;
      tapPending = null;
    }
    let frames = 0;
    let readOnce = false;
    for (;;) {
      let frame;
      try {
        frame = stream.next();
      } catch (err) {
        if (err instanceof FramingError) throw new RelayStop({ reason: "guest-protocol", detail: err.message });
        throw err;
      }
      if (frame !== null) {
        if (frame.length < 14) {
          toTap.drops += 1; // empty or shorter than an Ethernet header
        } else if (!writeToTap(frame.offset, frame.length)) {
          tapPending = frame;
          return;
        }
        frames += 1;
        if (frames >= budget) {
          backlog = stream.held >= 4;
          return;
        }
        continue;
      }
      backlog = false;
      if (readOnce) return;
      readOnce = true;
      const room = stream.room();
      const n = readOrErrno(guestFd, fromGuest.subarray(room.offset), room.length);
      if (n === 0) throw guestClosed("the guest closed its socket");
      if (n === -EAGAIN) return;
      if (n === -EINTR) {
        readOnce = false;
        continue;
      }
      if (n < 0) throw guestClosed(`reading the guest's socket failed (errno ${-n})`);
      stream.added(n);
      toTap.queueHighWater = Math.max(toTap.queueHighWater, stream.held);
    }
  }

  function guestToTapDatagram(): void {
    if (tapPending !== null) {
      if (!writeToTap(tapPending.offset, tapPending.length)) return;
      tapPending = null;
    }
    for (let frames = 0; frames < budget; frames += 1) {
      const n = receiveAtOrErrno(guestFd, fromGuestAddress + HEADROOM, FRAME_ROOM, MSG_TRUNC);
      if (n === -EAGAIN) return;
      if (n === -EINTR) continue;
      if (n < 0) throw guestClosed(`reading the guest's socket failed (errno ${-n})`);
      if (n < 14 || n > FRAME_ROOM) {
        toTap.drops += 1; // shorter than an Ethernet header, or cut short by the buffer
        continue;
      }
      if (!writeToTap(HEADROOM, n)) {
        tapPending = { offset: HEADROOM, length: n };
        return;
      }
    }
  }

  /** Handles the control pipe; returns the end when asked to stop. */
  function readControl(): RelayEnd | null {
    const n = readOrErrno(controlFd, control);
    if (n === 0) return { reason: "stopped", detail: "the launcher went away" };
    for (let i = 0; i < n; i += 1) {
      if (control[i] === CONTROL_STOP) return { reason: "stopped", detail: "stopped" };
      if (control[i] === CONTROL_COUNTERS) report(counters);
    }
    return null;
  }

  const guestToTap = reassembly !== null ? () => guestToTapStream(reassembly) : guestToTapDatagram;
  const tapToGuest = mode === "stream" ? tapToGuestStream : tapToGuestDatagram;
  const flushToGuest = mode === "stream" ? flushBatch : () => void sendDatagram();

  try {
    want(controlFd, EPOLLIN);
    updateInterest();
    for (;;) {
      const timeout = backlog && tapPending === null ? 0 : -1;
      const ready = epollWaitOrErrno(epollFd, events, 8, timeout);
      if (ready === -EINTR) continue;
      if (ready < 0) throw new RelayStop({ reason: "tap-gone", detail: `epoll_wait failed (errno ${-ready})` });
      // guest -> TAP runs at most once per wake-up, whichever event asks for it: one budget.
      let guestToTapDue = backlog && tapPending === null;
      for (let i = 0; i < ready; i += 1) {
        const flags = eventsView.getUint32(i * EPOLL_EVENT_SIZE, true);
        const fd = eventsView.getUint32(i * EPOLL_EVENT_SIZE + 4, true);
        if (fd === controlFd) {
          const end = readControl();
          if (end !== null) return { end, counters };
        } else if (fd === tapFd) {
          if (flags & (EPOLLERR | EPOLLHUP)) checkTapAlive();
          if (flags & EPOLLOUT) guestToTapDue = true;
          if (flags & EPOLLIN && batchFill === 0) tapToGuest();
        } else if (fd === guestFd) {
          if (flags & EPOLLOUT) flushToGuest();
          if (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) guestToTapDue = true;
        }
      }
      if (guestToTapDue) guestToTap();
      updateInterest();
    }
  } catch (err) {
    if (err instanceof RelayStop) return { end: err.end, counters };
    throw err;
  } finally {
    closeFd(epollFd);
  }
}
