// The relay's Worker: runs the blocking epoll loop off the main thread and reports back by message.
import type { RelayCounters } from "./counters.ts";
import { runRelay, type RelayEnd, type RelaySettings } from "./relay-loop.ts";

export type WorkerReport =
  | { type: "counters"; counters: RelayCounters }
  | { type: "ended"; end: RelayEnd; counters: RelayCounters }
  | { type: "failed"; message: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<RelaySettings>) => {
  try {
    const result = runRelay(event.data, (counters) => self.postMessage({ type: "counters", counters } satisfies WorkerReport));
    self.postMessage({ type: "ended", ...result } satisfies WorkerReport);
  } catch (err) {
    self.postMessage({ type: "failed", message: err instanceof Error ? err.message : String(err) } satisfies WorkerReport);
  }
};
