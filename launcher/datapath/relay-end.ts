// How a relay ends: each reason named for what happened, and the error that carries it out of the loop.
import { EBADFD, ECONNREFUSED, ECONNRESET, ENOTCONN, EPIPE, errnoName } from "../../shared/errno.ts";

export type RelayEndReason =
  | "stopped" // the launcher asked, or closed the control pipe
  | "guest-closed" // the guest closed its end of the socket
  | "guest-failed" // the guest's socket failed in another way
  | "guest-protocol" // the guest broke the stream framing
  | "tap-gone" // the TAP was deleted under the relay (EBADFD)
  | "tap-failed" // reading the TAP failed in another way
  | "wait-failed"; // waiting for readiness (epoll_wait) failed

export interface RelayEnd {
  reason: RelayEndReason;
  detail: string;
}

/** Thrown inside the loop to end it; the loop returns its `end`. */
export class RelayStop extends Error {
  constructor(readonly end: RelayEnd) {
    super(end.detail);
  }
}

/** A read or write of the TAP failed with `errno`: deleted (EBADFD), or another failure. */
export function tapEnded(call: string, errno: number): RelayStop {
  if (errno === EBADFD)
    return new RelayStop({ reason: "tap-gone", detail: `the TAP went away (${call}: ${errnoName(errno)}); was it deleted (ip link del)?` });
  return new RelayStop({ reason: "tap-failed", detail: `reading the TAP failed (${call}: ${errnoName(errno)})` });
}

/** The guest's end closed: a stream read of 0 bytes. */
export function guestClosed(): RelayStop {
  return new RelayStop({ reason: "guest-closed", detail: "the guest closed its socket" });
}

/** A call on the guest's socket failed with `errno`: closed by the guest (EPIPE, ECONNRESET, ...), or another failure. */
export function guestEnded(call: string, errno: number): RelayStop {
  if (isGuestGone(errno))
    return new RelayStop({ reason: "guest-closed", detail: `the guest closed its socket (${call}: ${errnoName(errno)})` });
  return new RelayStop({ reason: "guest-failed", detail: `the guest's socket failed (${call}: ${errnoName(errno)})` });
}

/** errno values that mean the guest's end of the socket is closed. */
export function isGuestGone(errno: number): boolean {
  return errno === EPIPE || errno === ECONNRESET || errno === ECONNREFUSED || errno === ENOTCONN;
}

/** The relay's wait failed. */
export function waitFailed(call: string, errno: number): RelayStop {
  return new RelayStop({ reason: "wait-failed", detail: `waiting for the TAP and the guest failed (${call}: ${errnoName(errno)})` });
}
