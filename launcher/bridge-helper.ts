// Running a bridge helper exactly as QEMU's -netdev bridge does, and receiving the TAP fd it sends.
import type { ConsolaInstance } from "consola";
import { receiveFds } from "../shared/fd-receive.ts";
import { errorCode, StepError, SysError, systemReason } from "../shared/errors.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../shared/kernel.ts";
import { SOCK_NONBLOCK, SOCK_STREAM } from "../shared/kernel-launcher.ts";
import { openSocketPair } from "../shared/libc-launcher.ts";
import { release } from "./fds.ts";
import { outOfFds } from "./out-of-fds.ts";
import { adoptTapQueues, type OpenedTap } from "./tap-fd.ts";

/** The helper's end of the socketpair, as the helper sees it. */
export const HELPER_SOCKET_FD = 3;

/** What the launcher asks of the helper beyond QEMU's protocol (tap-bridge-helper's extensions). */
export interface HelperExtensions {
  queues?: number;
  /** The guest's MAC address as the user typed it (checked), for a `locked` policy line. */
  mac?: string | null;
}

/**
 * QEMU's rules (net_bridge_run_helper): a helper string with a space or tab is a shell command run as
 * `/bin/sh -c "HELPER --use-vnet --fd=N [--br=BRIDGE]"`, with `--br=` added only when the string has
 * none; otherwise it is the path of an executable run as `HELPER --use-vnet --fd=N --br=BRIDGE`.
 * More than one queue adds `--queues=N`, a MAC `--mac=MAC` (tap-bridge-helper's extensions) at the end;
 * without them QEMU's command line stays exactly as it is, for any helper.
 */
export function helperCommand(helper: string, bridge: string, extensions: HelperExtensions = {}, socketFd = HELPER_SOCKET_FD): string[] {
  const { queues = 1, mac = null } = extensions;
  const extension = [...(queues > 1 ? [`--queues=${queues}`] : []), ...(mac === null ? [] : [`--mac=${mac}`])];
  if (helper.includes(" ") || helper.includes("\t")) {
    const br = helper.includes("--br=") ? "" : `--br=${bridge}`;
    return ["/bin/sh", "-c", `${helper} --use-vnet --fd=${socketFd} ${br}${extension.map((arg) => ` ${arg}`).join("")}`];
  }
  return [helper, "--use-vnet", `--fd=${socketFd}`, `--br=${bridge}`, ...extension];
}

function signalOf(child: { signalCode: NodeJS.Signals | number | null }): string | null {
  return child.signalCode === null ? null : String(child.signalCode);
}

/** How long a helper's stdout and stderr are still read after it exited: a process it started may hold them open. */
const OUTPUT_GRACE_MS = 500;
/** What is kept of a helper's stdout and of its stderr, to quote: its messages are a few lines. */
const OUTPUT_LIMIT = 64 * 1024;
/**
 * How long the launcher waits for the helper to exit. tap-bridge-helper answers in milliseconds and
 * gives up on its own steps sooner; one that waits on a name service that never answers (an LDAP
 * server gone, /etc/group a FIFO) would otherwise hold the launcher, and the VM, forever. Longer
 * than the helper's own deadline (helper/config.ts, 60 s), so that its message, naming the step it
 * waited for, is the one the user reads.
 */
const HELPER_DEADLINE_MS = 75_000;

/**
 * The text of `stream` up to OUTPUT_LIMIT bytes, read until its end, or until OUTPUT_GRACE_MS after
 * `exited` resolves when something else still holds the other end. Never rejects: a read that fails
 * ends the text with a note, since the helper's exit status and fd decide, not its words.
 */
async function readHelperOutput(stream: ReadableStream<Uint8Array>, exited: Promise<unknown>): Promise<string> {
  const kept: Uint8Array[] = [];
  let size = 0;
  let finished = false;
  let grace: Timer | undefined;
  let note = "";
  try {
    const reader = stream.getReader();
    void exited.then(() => {
      if (!finished) grace = setTimeout(() => void reader.cancel().catch(() => undefined), OUTPUT_GRACE_MS);
    });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size === OUTPUT_LIMIT) continue; // read on to the end, keep nothing more
      const part = value.subarray(0, OUTPUT_LIMIT - size);
      kept.push(part);
      size += part.byteLength;
    }
  } catch (err) {
    note = `\n(the rest of its output could not be read: ${errorCode(err)})`;
  } finally {
    finished = true;
    clearTimeout(grace);
  }
  return Buffer.concat(kept).toString("utf8") + note;
}

/**
 * What the helper said, one entry per line without its own `tap-bridge-helper: ` prefix or blank
 * lines: the first is its error, the others what it added (a hint), each shown as a line of its own.
 */
function helperLines(output: string): string[] {
  return output
    .split("\n")
    .map((line) =>
      line
        .replace(/^tap-bridge-helper: /, "")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((line) => line !== "");
}

/** The socketpair the helper sends the TAP over: ours, theirs. throws StepError (out of fds passed on as such). */
function helperSocketPair(helper: string): [number, number] {
  try {
    return openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
  } catch (err) {
    if (outOfFds(err) !== null) throw err;
    throw new StepError(`failed to make the socket bridge helper ${helper} sends the TAP over: ${systemReason(err)}`, { cause: err });
  }
}

/** Errors of Bun.spawn that are about the helper's file, not about the launcher's own system calls. */
const HELPER_FILE_ERRORS = new Set(["ENOENT", "EACCES", "ENOEXEC", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "EISDIR"]);

/** Starts the helper with `theirs` as its fd 3. throws StepError saying whose fault it is. */
function spawnHelper(cmd: string[], helper: string, theirs: number): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  try {
    return Bun.spawn({ cmd, stdio: ["ignore", "pipe", "pipe", theirs] });
  } catch (err) {
    // Out of fds is no fault of the helper: the launcher's report of it says what to raise.
    if (outOfFds(err) !== null) throw err;
    const code = errorCode(err);
    if (HELPER_FILE_ERRORS.has(code)) {
      throw new StepError(`cannot run bridge helper ${helper}: ${code}`, {
        hint: code === "ENOENT" ? "install it (as root: tap-launcher install), or name it with --helper=PATH" : "check --helper",
      });
    }
    const call = (err as { syscall?: unknown }).syscall;
    throw new StepError(`failed to start bridge helper ${helper}: ${code}${typeof call === "string" ? ` in ${call}` : ""}`, {
      hint: "the system refused a step of starting a process, not the helper: the reason says which",
    });
  } finally {
    // Only the helper may hold its end: one that sends nothing must leave us reading EOF, not waiting.
    release(theirs);
  }
}

/** Resolves to the helper's exit status, or to null once HELPER_DEADLINE_MS passed (it is then killed). */
async function exitWithin(child: Bun.Subprocess, deadlineMs: number): Promise<number | null> {
  let timer: Timer | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), deadlineMs);
  });
  const status = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (status !== null) return status;
  child.kill("SIGKILL");
  await child.exited;
  return null;
}

/** The fds the helper sent: none when it sent nothing. throws StepError when receiving fails. */
function receiveTapFds(ours: number, queues: number, helper: string): number[] {
  try {
    return receiveFds(ours, queues).fds;
  } catch (err) {
    // EAGAIN: nothing was sent (something the helper started may still hold its end).
    if (err instanceof SysError && err.code === "EAGAIN") return [];
    throw new StepError(`failed to receive the TAP fd from bridge helper ${helper}: ${systemReason(err)}`, { cause: err });
  }
}

/** The launcher's own hint for a helper's failure, by what it said. */
function failureHint(said: string, queues: number, mac: string | null): string {
  const denied = "the helper's ACL or policy does not allow this to you: `tap-launcher doctor` shows what it allows";
  const noQueues = `--queues=${queues} needs a helper that knows --queues (tap-bridge-helper does; QEMU's qemu-bridge-helper does not): install it, or use --queues=1`;
  if (said.includes("access denied")) return denied;
  if (queues > 1 && /usage|unknown|unrecognized|--queues/i.test(said)) return noQueues;
  return mac !== null && /usage|unknown|unrecognized|--mac/i.test(said)
    ? "--mac needs a helper that knows --mac (tap-bridge-helper does; QEMU's qemu-bridge-helper does not): install it"
    : "";
}

/** The hint lines of a failure: what the helper added after its error, then the launcher's own. */
function hintLines(said: string[], own: string): string {
  return [...said.slice(1), ...(own === "" ? [] : [own])].join("\n");
}

/**
 * Runs `helper` for `bridge` with one end of an AF_UNIX stream socketpair as fd 3 and nothing else
 * open beyond stdio, waits for it (at most HELPER_DEADLINE_MS), and returns the TAP it sent,
 * non-blocking. The helper's stderr is passed on as warnings when it succeeds and quoted in the error
 * when it fails, line by line as it wrote them.
 * throws StepError when it cannot start, fails, is killed, hangs, or exits 0 without sending a TAP.
 */
export async function runBridgeHelper(
  helper: string,
  bridge: string,
  log: ConsolaInstance,
  extensions: HelperExtensions = {},
): Promise<OpenedTap> {
  const queues = extensions.queues ?? 1;
  const cmd = helperCommand(helper, bridge, extensions);
  log.debug(`running bridge helper: ${cmd.map((arg) => JSON.stringify(arg)).join(" ")}`);
  const [ours, theirs] = helperSocketPair(helper);
  try {
    const child = spawnHelper(cmd, helper, theirs);
    const [stdout, stderr, exitCode] = await Promise.all([
      readHelperOutput(child.stdout, child.exited),
      readHelperOutput(child.stderr, child.exited),
      exitWithin(child, HELPER_DEADLINE_MS),
    ]);
    const said = helperLines(`${stderr}\n${stdout}`);
    const first = said[0] ?? "";
    if (exitCode === null) {
      throw new StepError(
        `bridge helper ${helper} did not finish within ${HELPER_DEADLINE_MS / 1000} s for bridge ${bridge}, so it was stopped${first ? `: ${first}` : ""}`,
        {
          hint: hintLines(
            said,
            "a helper that waits this long is usually waiting for the name service (LDAP, NIS, /etc/passwd or /etc/group): check that `getent group` answers",
          ),
        },
      );
    }
    const received = receiveTapFds(ours, queues, helper);
    const signal = signalOf(child);
    if (signal !== null || exitCode !== 0) {
      for (const fd of received) release(fd);
      if (signal !== null)
        throw new StepError(`bridge helper ${helper} was killed by ${signal} for bridge ${bridge}${first ? `: ${first}` : ""}`, {
          hint: hintLines(said, ""),
        });
      throw new StepError(
        `bridge helper ${helper} failed (exit status ${exitCode}) for bridge ${bridge}${first ? `: ${first}` : " without a message"}`,
        { hint: hintLines(said, failureHint(said.join(" "), queues, extensions.mac ?? null)) },
      );
    }
    if (received.length === 0) {
      throw new StepError(`bridge helper ${helper} exited 0 without sending a TAP fd for bridge ${bridge}${first ? `: ${first}` : ""}`, {
        hint: hintLines(said, "the helper is broken: QEMU would have taken fd 0 for the TAP. Use tap-bridge-helper (tap-launcher install)"),
      });
    }
    if (received.length < queues) {
      for (const fd of received) release(fd);
      throw new StepError(`bridge helper ${helper} sent only ${received.length} of the ${queues} TAP fds asked for, on bridge ${bridge}`, {
        hint: "the helper ignored --queues: use tap-bridge-helper (tap-launcher install), or --queues=1",
      });
    }
    for (const line of said) log.warn(`bridge helper: ${line}`);
    return adoptTapQueues(received, `bridge helper ${helper}`);
  } finally {
    release(ours);
  }
}
