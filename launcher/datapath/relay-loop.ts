// The relay's event loop, run in a Worker: frames between a TAP fd and the guest's socket, a batch per wake-up.
//
// One read of the TAP is one frame. Each wake-up moves at most one batch per direction, so neither
// starves the other; each direction is one function per mode (to-guest.ts, to-tap.ts) over the state
// in one RelayState. What the relay holds is bounded by buffers allocated once, whatever the input.
import { EBADFD, EINTR } from "../../shared/errno.ts";
import { EpollSet } from "../../shared/epoll.ts";
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLPRI } from "../../shared/kernel-launcher.ts";
import { addressOf, readOrErrno } from "../../shared/libc.ts";
import { emptyCounters, type RelayCounters } from "./counters.ts";
import { type RelayEnd, RelayStop, tapEnded, waitFailed } from "./relay-end.ts";
import { CaptureSink } from "./pcap.ts";
import {
  CONTROL_COUNTERS,
  CONTROL_STOP,
  type RelayMoves,
  type RelayOutcome,
  type RelayReports,
  type RelaySettings,
  type RelayState,
} from "./relay-state.ts";
import { StreamReassembly } from "./stream-framing.ts";
import { TapPort } from "./tap-port.ts";
import { FRAME_ROOM, flushToGuestDgram, flushToGuestStream, tapToGuestDgram, tapToGuestStream, ToGuestQueue } from "./to-guest.ts";
import { DatagramSlots, guestToTapDgram, guestToTapStream, ToTapQueue } from "./to-tap.ts";

/** How much one stream read from the guest may bring at once. */
const GUEST_READ_ROOM = 256 * 1024;

/** The direction functions for `mode`, with the buffers only that mode needs. */
function movesFor(settings: RelaySettings): RelayMoves {
  if (settings.mode === "dgram") {
    const datagrams = new DatagramSlots();
    return { tapToGuest: tapToGuestDgram, flushToGuest: flushToGuestDgram, guestToTap: (relay) => guestToTapDgram(relay, datagrams) };
  }
  const stream = new StreamReassembly(GUEST_READ_ROOM + 4 + FRAME_ROOM);
  const address = addressOf(stream.buffer);
  return {
    tapToGuest: tapToGuestStream,
    flushToGuest: flushToGuestStream,
    guestToTap: (relay) => guestToTapStream(relay, stream, address),
  };
}

/** Sets what to wait for: a direction that cannot make progress does not wake the loop. */
function watchWhatIsWanted(relay: RelayState): void {
  const { epoll, settings, toGuest, toTap } = relay;
  const guestBehind = toGuest.count > 0;
  const tapFull = !toTap.idle;
  // The TAP stays in the set (EPOLLPRI, which tun never raises, holds its place) so that its deletion
  // wakes the loop even while neither direction wants it.
  epoll.watch(settings.tapFd, (guestBehind ? EPOLLPRI : EPOLLIN) | (tapFull ? EPOLLOUT : 0));
  epoll.watch(settings.guestFd, (tapFull || toTap.backlog ? 0 : EPOLLIN) | (guestBehind ? EPOLLOUT : 0));
}

/** A zero-length read takes no frame from a live TAP and fails with EBADFD once it is deleted. */
function checkTapAlive(relay: RelayState, scratch: Uint8Array): void {
  if (readOrErrno(relay.settings.tapFd, scratch, 0) === -EBADFD) throw tapEnded("read", EBADFD);
}

/** Handles the control pipe: the end when asked to stop, else null. */
function readControl(relay: RelayState, scratch: Uint8Array, report: (counters: RelayCounters) => void): RelayEnd | null {
  const n = readOrErrno(relay.settings.controlFd, scratch);
  if (n === 0) return { reason: "stopped", detail: "the launcher went away" };
  for (let i = 0; i < n; i += 1) {
    if (scratch[i] === CONTROL_STOP) return { reason: "stopped", detail: "stopped" };
    if (scratch[i] === CONTROL_COUNTERS) report(relay.counters);
  }
  return null;
}

/** One wait and what it woke up for. Returns the end when the launcher asked to stop. throws RelayStop. */
function wakeUp(relay: RelayState, scratch: Uint8Array, report: (counters: RelayCounters) => void): RelayEnd | null {
  const { epoll, settings, toTap, moves } = relay;
  const backlogDue = toTap.backlog && toTap.idle;
  const ready = epoll.wait(backlogDue ? 0 : -1);
  if (ready === -EINTR) return null;
  if (ready < 0) throw waitFailed("epoll_wait", -ready);
  // guest -> TAP runs at most once per wake-up, whichever event asks for it: one batch.
  let guestToTapDue = backlogDue;
  for (let i = 0; i < ready; i += 1) {
    const fd = epoll.readyFd(i);
    const flags = epoll.readyFlags(i);
    if (fd === settings.controlFd) {
      const end = readControl(relay, scratch, report);
      if (end !== null) return end;
    } else if (fd === settings.tapFd) {
      if (flags & (EPOLLERR | EPOLLHUP)) checkTapAlive(relay, scratch);
      if (flags & EPOLLOUT) guestToTapDue = true;
      if (flags & EPOLLIN && relay.toGuest.count === 0) moves.tapToGuest(relay);
    } else if (fd === settings.guestFd) {
      if (flags & EPOLLOUT) moves.flushToGuest(relay);
      if (flags & (EPOLLIN | EPOLLERR | EPOLLHUP)) guestToTapDue = true;
    }
  }
  if (guestToTapDue) moves.guestToTap(relay);
  // One write per wake-up for what was captured: the file stays current, and costs no call per frame.
  if (relay.capture !== null) relay.capture.flush();
  return null;
}

/**
 * Relays frames until stopped, the guest closes, the TAP goes away or the guest breaks the framing.
 * Reports the counters whenever CONTROL_COUNTERS arrives, and a stopped capture. Closes nothing it was given.
 */
export function relayFrames(settings: RelaySettings, reports: RelayReports): RelayOutcome {
  const epoll = new EpollSet(8);
  const tap = new TapPort(settings.tapFd);
  const relay: RelayState = {
    settings,
    counters: emptyCounters(),
    epoll,
    tap,
    toGuest: new ToGuestQueue(),
    toTap: new ToTapQueue(settings.vnetHeaderLength),
    moves: movesFor(settings),
    capture: settings.capture === null ? null : new CaptureSink(settings.capture, reports.notice),
  };
  const scratch = new Uint8Array(64);
  try {
    epoll.watch(settings.controlFd, EPOLLIN);
    for (;;) {
      watchWhatIsWanted(relay);
      const end = wakeUp(relay, scratch, reports.counters);
      if (end !== null) return { end, counters: relay.counters };
    }
  } catch (err) {
    if (err instanceof RelayStop) return { end: err.end, counters: relay.counters };
    throw err;
  } finally {
    relay.capture?.flush();
    epoll.close();
  }
}
