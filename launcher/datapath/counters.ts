// The relay's counters per direction, and how they are printed.

export interface DirectionCounters {
  frames: number;
  bytes: number;
  /** Frames the relay could not deliver and dropped (too short, too long, empty, refused by the TAP). */
  drops: number;
  /** The most bytes ever waiting in the relay's queue for this direction. */
  queueHighWater: number;
}

export interface RelayCounters {
  tapToGuest: DirectionCounters;
  guestToTap: DirectionCounters;
}

export function emptyCounters(): RelayCounters {
  const direction = (): DirectionCounters => ({ frames: 0, bytes: 0, drops: 0, queueHighWater: 0 });
  return { tapToGuest: direction(), guestToTap: direction() };
}

function line(name: string, counters: DirectionCounters): string {
  return `${name}: ${counters.frames} frames, ${counters.bytes} bytes, ${counters.drops} dropped, queue high-water ${counters.queueHighWater} bytes`;
}

/** Two lines; `kernelDrops` are frames the kernel dropped at the TAP while the relay held back. */
export function formatCounters(counters: RelayCounters, kernelDrops: number | null): string {
  const kernel = kernelDrops === null ? "" : ` (and ${kernelDrops} dropped by the kernel at the TAP while the guest was not reading)`;
  return `${line("tap -> guest", counters.tapToGuest)}${kernel}\n${line("guest -> tap", counters.guestToTap)}`;
}
