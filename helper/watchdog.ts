// The privileged programs' watchdog thread (a Worker): past the deadline, one line naming what the program was waiting for, then exit 1.
import { exitProcessNow } from "../shared/libc.ts";
import { writeText } from "../shared/log.ts";
import type { WatchdogStart } from "./deadline.ts";

declare const self: Worker;
self.onmessage = ({ data: { step, deadlineMs, program, waits, leftBehind } }: MessageEvent<WatchdogStart>) => {
  setTimeout(() => {
    const wait = waits[Atomics.load(step, 0)] ?? waits[0];
    writeText(2, `${program}: gave up after ${deadlineMs / 1000} s waiting for ${wait}; ${leftBehind}\n`);
    exitProcessNow(1);
  }, deadlineMs);
};
