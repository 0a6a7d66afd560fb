// A privileged program's overall deadline: a watchdog thread that, past it, says which step the program was waiting for and ends it with status 1.
import { DEADLINE_MS } from "./config.ts";

/** What the TAP helper can be waiting for, in order; the watchdog names the last one entered. */
export const WAITS = [
  "the policy file to be read",
  "the name service to name your user and groups (getent passwd, getent group)",
  "the bridge, the ACL or the count of your TAPs",
  "the TAP to be made",
  "the TAP to join the bridge",
  "the fd to be handed over",
] as const;
export type Wait = (typeof WAITS)[number];

/** Which program waits, for what, and what its last line says is left when the deadline ends it. */
export interface DeadlineSpec<W extends string> {
  program: string;
  waits: readonly W[];
  /** Appended to the line, after `; ` (`no TAP is left behind`). */
  leftBehind: string;
}

/** The TAP helper's: its TAP is not persistent and goes with its fds, which the kernel closes. */
export const HELPER_DEADLINE: DeadlineSpec<Wait> = { program: "tap-bridge-helper", waits: WAITS, leftBehind: "no TAP is left behind" };

/** What the main thread tells the watchdog. */
export interface WatchdogStart {
  /** `waits`' index of the step entered last, written by the main thread. */
  step: Int32Array;
  deadlineMs: number;
  program: string;
  waits: readonly string[];
  leftBehind: string;
}

/**
 * Why a thread: a lookup blocked in the name service (an /etc/group that is a FIFO, a directory
 * server that never answers) blocks the JS thread inside libc, where no timer or signal handler of
 * JS can run.
 *
 * The watchdog starts with the first wait the program does not bound itself, the name service's:
 * every other step is a kernel call, a read of a root-owned configuration file, or a wait with its
 * own limit (the send's, the audit line's). So a helper without a policy file, which looks up no
 * names, pays nothing for it (a Worker costs ~5 ms at start, measured).
 */
export class Deadline<W extends string> {
  readonly #step = new Int32Array(new SharedArrayBuffer(4));
  #started = false;

  constructor(private readonly spec: DeadlineSpec<W>) {}

  /** Starts the clock and the watchdog, once. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // In the compiled program, scripts/build.ts makes the watchdog an entry point, named relative to
    // the entry points' common folder (the repository's root).
    const module = Bun.main.startsWith("/$bunfs/") ? "./helper/watchdog.ts" : new URL("./watchdog.ts", import.meta.url).href;
    const watchdog = new Worker(module);
    const { program, waits, leftBehind } = this.spec;
    watchdog.postMessage({ step: this.#step, deadlineMs: DEADLINE_MS, program, waits, leftBehind } satisfies WatchdogStart);
    watchdog.unref(); // the program ends when its work does
  }

  /** From now on the program is waiting for `wait`. */
  enter(wait: W): void {
    Atomics.store(this.#step, 0, this.spec.waits.indexOf(wait));
  }
}
