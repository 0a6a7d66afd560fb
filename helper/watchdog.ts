// The helper's watchdog thread (a Worker): past the deadline, one line naming what the helper was waiting for, then exit 1.
import { exitProcessNow } from "../shared/libc.ts";
import { writeText } from "../shared/log.ts";
import { WAITS, type WatchdogStart } from "./deadline.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WatchdogStart>) => {
  const { step, deadlineMs } = event.data;
  setTimeout(() => {
    const wait = WAITS[Atomics.load(step, 0)] ?? WAITS[0];
    writeText(2, `tap-bridge-helper: gave up after ${deadlineMs / 1000} s waiting for ${wait}; no TAP is left behind\n`);
    exitProcessNow(1);
  }, deadlineMs);
};
