// The relay's counters per direction, and how they are printed: a human line per direction, or one JSON line.

/** Frames dropped by the relay, by cause. A cause that cannot happen in a direction stays 0. */
export interface DropCounters {
  /** Empty, or shorter than an Ethernet header. */
  short: number;
  /** A datagram longer than the relay's slot (guest -> TAP, dgram). */
  tooLong: number;
  /** A GSO frame from a TAP whose offloads were on (TAP -> guest). */
  gso: number;
  /** The receiving side refused it: the TAP (down: EIO) or the guest's socket (EMSGSIZE). */
  refused: number;
}

export interface DirectionCounters {
  frames: number;
  bytes: number;
  drops: DropCounters;
  /** The most bytes ever waiting in the relay's queue for this direction. */
  queueHighWater: number;
}

export interface RelayCounters {
  tapToGuest: DirectionCounters;
  guestToTap: DirectionCounters;
}

export function emptyCounters(): RelayCounters {
  const direction = (): DirectionCounters => ({
    frames: 0,
    bytes: 0,
    drops: { short: 0, tooLong: 0, gso: 0, refused: 0 },
    queueHighWater: 0,
  });
  return { tapToGuest: direction(), guestToTap: direction() };
}

function totalDrops(drops: DropCounters): number {
  return drops.short + drops.tooLong + drops.gso + drops.refused;
}

function line(name: string, counters: DirectionCounters): string {
  return `${name}: ${counters.frames} frames, ${counters.bytes} bytes, ${totalDrops(counters.drops)} dropped, queue high-water ${counters.queueHighWater} bytes`;
}

/** Two lines; `kernelDrops` are frames the kernel dropped at the TAP while the relay held back. */
export function formatCounters(counters: RelayCounters, kernelDrops: number | null): string {
  const kernel = kernelDrops === null ? "" : ` (and ${kernelDrops} dropped by the kernel at the TAP while the guest was not reading)`;
  return `${line("tap -> guest", counters.tapToGuest)}${kernel}\n${line("guest -> tap", counters.guestToTap)}`;
}

function directionJson(counters: DirectionCounters, kernelDrops?: number | null): Record<string, unknown> {
  const { short, tooLong, gso, refused } = counters.drops;
  const drops = { short, too_long: tooLong, gso, refused, ...(kernelDrops === undefined ? {} : { kernel: kernelDrops }) };
  return { frames: counters.frames, bytes: counters.bytes, drops, queue_high_water: counters.queueHighWater };
}

/**
 * One line of JSON, no newline: `event` ("signal" for SIGUSR1, "exit"), then per direction frames,
 * bytes, drops by cause and the queue's high-water mark; the kernel's drops at the TAP (null when
 * /proc does not show the TAP) count apart from the relay's, under tap_to_guest.drops.kernel.
 */
export function countersJson(counters: RelayCounters, kernelDrops: number | null, event: "signal" | "exit"): string {
  return JSON.stringify({
    event,
    tap_to_guest: directionJson(counters.tapToGuest, kernelDrops),
    guest_to_tap: directionJson(counters.guestToTap),
  });
}
