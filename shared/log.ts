// The one logger per program: plain `program: message` lines on stderr, as libvirt and QEMU quote them.
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola/core";
import { utf8Bytes } from "./text.ts";
import { EAGAIN, EINTR } from "./errno.ts";
import type { StepError } from "./errors.ts";
import { POLLOUT } from "./kernel.ts";
import { isTerminal, pollOneOrErrno, writeOrErrno } from "./libc.ts";

/** consola levels: 0 errors, 1 warnings, 3 information, 4 debug. */
const LEVELS = { quiet: 1, normal: 3, verbose: 4 };
/** The word a line of each kind carries after the program's name; errors carry none (QEMU's style). */
const KIND_WORDS: Readonly<Record<string, string>> = { warn: "warning: ", debug: "debug: ", trace: "debug: " };
/** ANSI SGR colours for a terminal only: red errors, yellow warnings, green successes, dim debug. */
const KIND_COLOURS: Readonly<Record<string, number>> = { error: 31, fatal: 31, fail: 31, warn: 33, success: 32, debug: 2, trace: 2 };

/**
 * `tag: [warning: ]message` and nothing else: libvirt shows a helper's stderr verbatim, QEMU prefixes it. Written
 * synchronously: a program that execs or exits next loses no line, and process.stderr's set-up costs ~13 ms (measured).
 */
function lineReporter(tag: string, fd: number): ConsolaReporter {
  const terminal = isTerminal(fd);
  return {
    log(entry: LogObject) {
      const text = entry.args.map(String).join(" ").replace(/\n+$/, "");
      const line = `${tag}: ${KIND_WORDS[entry.type] ?? ""}${text}`;
      const colour = terminal ? KIND_COLOURS[entry.type] : undefined;
      writeText(fd, colour === undefined ? `${line}\n` : `\x1b[${colour}m${line}\x1b[0m\n`);
    },
  };
}

/** Writes all of `text` to `fd`, waiting up to a second per stall on a full pipe; any other failure drops it: nowhere is left to say so. */
export function writeText(fd: number, text: string): void {
  let bytes = utf8Bytes(text);
  while (bytes.byteLength > 0) {
    const written = writeOrErrno(fd, bytes);
    if (written >= 0) bytes = bytes.subarray(written);
    else if (written !== -EINTR && (written !== -EAGAIN || pollOneOrErrno(fd, POLLOUT, 1000) === 0)) return;
  }
}

/** A logger on stderr, made at the first message its level shows: that costs ~0.3 ms (measured), and most helper runs print none. */
export function createLogger(tag: string, verbosity: keyof typeof LEVELS = "normal"): ConsolaInstance {
  const level = LEVELS[verbosity];
  let consola: ConsolaInstance | null = null;
  const made = () => (consola ??= createConsola({ level, reporters: [lineReporter(tag, 2)] }));
  const dropped = (name: string | symbol) => consola === null && name === "debug" && level < LEVELS.verbose; // as consola would
  return new Proxy({} as ConsolaInstance, {
    get: (_, name) => (dropped(name) ? () => {} : Reflect.get(made(), name)),
    set: (_, name, value) => Reflect.set(made(), name, value),
  });
}

/** Prints a failed step: its message as an error, then what to do, its hint (a helper's, then the launcher's) line by line. */
export function reportStepError(log: ConsolaInstance, err: StepError): void {
  log.error(err.message);
  for (const line of err.hint.split("\n").filter(Boolean)) log.info(line);
}
