// A privileged program's overall deadline: past it, a watchdog thread names the step the program was waiting for and exits 1.
import { DEADLINE_MS } from "./config.ts";

/** Which program waits, for what (in order; the watchdog names the last entered), and what its line ends with when ended. */
export type DeadlineSpec<W extends string> = { program: string; waits: readonly W[]; leftBehind: string };
/** What the main thread tells the watchdog; it writes `step`, `waits`' index of the step entered last. */
export type WatchdogStart = DeadlineSpec<string> & { step: Int32Array; deadlineMs: number };

/** The TAP helper's: its TAP is not persistent and goes with its fds, which the kernel closes. */
export const HELPER_DEADLINE = {
  program: "tap-bridge-helper",
  waits: [
    "the policy file to be read",
    "the name service to name your user and groups (getent passwd, getent group)",
    "the bridge, the ACL or the count of your TAPs",
    "the TAP to be made",
    "the TAP to join the bridge",
    "the fd to be handed over",
  ],
  leftBehind: "no TAP is left behind",
} as const;

/** A watchdog thread, started at the first wait the program does not bound; why: docs/design.md, "The helper's deadline". */
export class Deadline<W extends string> {
  /** The step entered last: shared only with a watchdog, as a SharedArrayBuffer and Atomics cost ~0.1 ms at first use. */
  #entered = 0;
  #shared: Int32Array | null = null;
  constructor(private readonly spec: DeadlineSpec<W>) {}

  start(): void {
    const step = new Int32Array(new SharedArrayBuffer(4));
    step[0] = this.#entered;
    this.#shared = step;
    // The compiled program has the watchdog as an entry point (scripts/build.ts), named from the repository's root.
    const module = Bun.main.startsWith("/$bunfs/") ? "./helper/watchdog.ts" : new URL("./watchdog.ts", import.meta.url).href;
    const watchdog = new Worker(module);
    watchdog.postMessage({ ...this.spec, step, deadlineMs: DEADLINE_MS } satisfies WatchdogStart);
    watchdog.unref(); // the program ends when its work does
  }

  enter(wait: W): void {
    this.#entered = this.spec.waits.indexOf(wait);
    if (this.#shared !== null) Atomics.store(this.#shared, 0, this.#entered);
  }
}
