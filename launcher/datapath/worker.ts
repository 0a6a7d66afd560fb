// The relay's Worker: runs the blocking epoll loop off the main thread and reports back by message.
import type { RelayCounters } from "./counters.ts";
import { relayFrames } from "./relay-loop.ts";
import type { RelayOutcome, RelaySettings } from "./relay-state.ts";

export type WorkerReport =
  | { type: "counters"; counters: RelayCounters }
  | { type: "notice"; message: string }
  | ({ type: "ended" } & RelayOutcome)
  | { type: "failed"; message: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<RelaySettings>) => {
  try {
    const result = relayFrames(event.data, {
      counters: (counters) => self.postMessage({ type: "counters", counters } satisfies WorkerReport),
      notice: (message) => self.postMessage({ type: "notice", message } satisfies WorkerReport),
    });
    self.postMessage({ type: "ended", ...result } satisfies WorkerReport);
  } catch (err) {
    self.postMessage({ type: "failed", message: err instanceof Error ? err.message : String(err) } satisfies WorkerReport);
  }
};
