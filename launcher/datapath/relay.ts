// The main thread's handle on a running relay: start it in a Worker, ask for counters, stop it.
import { readFileSync } from "node:fs";
import { O_CLOEXEC } from "../../shared/kernel.ts";
import { O_NONBLOCK } from "../../shared/kernel-launcher.ts";
import { EINTR, errnoName } from "../../shared/errno.ts";
import { writeOrErrno } from "../../shared/libc.ts";
import { release } from "../fds.ts";
import { openPipe } from "../../shared/libc-launcher.ts";
import type { RelayCounters } from "./counters.ts";
import { CONTROL_COUNTERS, CONTROL_STOP, type RelayOutcome, type RelaySettings } from "./relay-state.ts";
import type { WorkerReport } from "./worker.ts";
import { isCompiled } from "../layout.ts";

/**
 * The Worker's module. In the compiled program, scripts/build.ts makes it an entry point of its own,
 * named relative to the entry points' common folder (the repository's root: scripts/program-entry.ts,
 * launcher/, helper/); in a source run, beside this file.
 */
const WORKER_MODULE = isCompiled ? "./launcher/datapath/worker.ts" : new URL("./worker.ts", import.meta.url).href;

export type RelayResult = RelayOutcome;

/**
 * A relay between `tapFd` and `guestFd` (both non-blocking, owned by the caller, who closes them after
 * `ended`). The Worker and the control pipe are the relay's own and are gone once `stop()` returns.
 */
export class Relay {
  readonly ended: Promise<RelayResult>;
  #worker: Worker;
  #control: [number, number];
  #waiting: ((counters: RelayCounters) => void)[] = [];
  #closed = false;
  #abort: (err: Error) => void = () => {};

  /** `notice` hears what the relay reports without stopping (a capture that stopped). */
  constructor(settings: Omit<RelaySettings, "controlFd">, notice: (message: string) => void = () => {}) {
    this.#control = openPipe(O_CLOEXEC | O_NONBLOCK);
    this.#worker = new Worker(WORKER_MODULE);
    this.ended = new Promise<RelayResult>((resolve, reject) => {
      this.#abort = reject;
      this.#worker.onmessage = (event: MessageEvent<WorkerReport>) => {
        const report = event.data;
        if (report.type === "counters") for (const notify of this.#waiting.splice(0)) notify(report.counters);
        else if (report.type === "notice") notice(report.message);
        else if (report.type === "ended") resolve({ end: report.end, counters: report.counters });
        else reject(new Error(`the relay failed: ${report.message}`));
      };
      this.#worker.onerror = (event) => reject(new Error(`the relay failed: ${event.message}`));
    });
    this.ended.then(
      () => this.#release(),
      () => this.#release(),
    );
    this.#worker.postMessage({ ...settings, controlFd: this.#control[0] } satisfies RelaySettings);
  }

  /** The counters as they are now (the final ones once the relay has ended). */
  counters(): Promise<RelayCounters> {
    if (this.#closed) return this.ended.then((result) => result.counters);
    const reply = new Promise<RelayCounters>((resolve) => this.#waiting.push(resolve));
    this.#send(CONTROL_COUNTERS);
    return reply;
  }

  /** Stops the loop (if it still runs) and returns how it ended. */
  async stop(): Promise<RelayResult> {
    this.#send(CONTROL_STOP);
    return this.ended;
  }

  #send(byte: number): void {
    if (this.#closed) return;
    let written = writeOrErrno(this.#control[1], new Uint8Array([byte]));
    while (written === -EINTR) written = writeOrErrno(this.#control[1], new Uint8Array([byte]));
    // A byte the loop never reads would leave it running (a stop never heard): end the relay here.
    if (written < 0) this.#abort(new Error(`the relay failed: its thread cannot be reached (write: ${errnoName(-written)})`));
  }

  #release(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    release(this.#control[0]);
    release(this.#control[1]);
  }
}

/**
 * Frames the kernel dropped on their way out of the TAP (its TX drops in /proc/net/dev, which
 * follows the reader's network namespace): what was lost while the relay held the TAP back. null
 * when /proc does not show the TAP or cannot be read.
 */
export function kernelTapDrops(name: string): number | null {
  let table: string;
  try {
    table = readFileSync("/proc/self/net/dev", "latin1");
  } catch {
    return null; // unreadable is shown as unknown, as a TAP missing from it is
  }
  const line = table.split("\n").find((row) => row.trim().startsWith(`${name}:`));
  const fields = line?.split(":")[1]?.trim().split(/\s+/).map(Number);
  return fields?.[11] ?? null;
}
