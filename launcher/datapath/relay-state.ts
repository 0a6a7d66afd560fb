// What a running relay holds, in one object, and what it is started with; shared by the loop and each direction.
import type { EpollSet } from "../../shared/epoll.ts";
import type { RelayCounters } from "./counters.ts";
import type { CaptureSettings, CaptureSink } from "./pcap.ts";
import type { RelayEnd } from "./relay-end.ts";
import type { TapPort } from "./tap-port.ts";
import type { ToGuestQueue } from "./to-guest.ts";
import type { ToTapQueue } from "./to-tap.ts";

export type RelayMode = "stream" | "dgram";

export interface RelaySettings {
  tapFd: number;
  guestFd: number;
  /** Read end of a pipe: CONTROL_STOP ends the loop, CONTROL_COUNTERS asks for a report. */
  controlFd: number;
  mode: RelayMode;
  /** 10 when the TAP has IFF_VNET_HDR: stripped towards the guest, zeroed and prepended towards the TAP. */
  vnetHeaderLength: number;
  /** --pcap: where to write every frame moved, or null (then nothing is captured, at no cost). */
  capture: CaptureSettings | null;
}

/** What the loop tells the launcher while it runs. */
export interface RelayReports {
  /** The counters, when CONTROL_COUNTERS asked for them. */
  counters: (counters: RelayCounters) => void;
  /** Something the user should know that does not stop the relay (the capture stopped). */
  notice: (message: string) => void;
}

export const CONTROL_STOP = 0x73; // "s"
export const CONTROL_COUNTERS = 0x63; // "c"

/** A direction's work for one wake-up, by mode. */
export interface RelayMoves {
  /** Reads a batch from the TAP and starts sending it to the guest. */
  tapToGuest: (relay: RelayState) => void;
  /** Sends what the guest did not take yet. */
  flushToGuest: (relay: RelayState) => void;
  /** Writes held frames to the TAP, or reads the guest for more and writes those. */
  guestToTap: (relay: RelayState) => void;
}

export interface RelayState {
  readonly settings: RelaySettings;
  readonly counters: RelayCounters;
  readonly epoll: EpollSet;
  readonly tap: TapPort;
  readonly toGuest: ToGuestQueue;
  readonly toTap: ToTapQueue;
  readonly moves: RelayMoves;
  /** Checked once per batch (or per frame, where frames are looked at one by one anyway); null when off. */
  readonly capture: CaptureSink | null;
}

/** How a relay ended, and what it moved. */
export interface RelayOutcome {
  end: RelayEnd;
  counters: RelayCounters;
}
