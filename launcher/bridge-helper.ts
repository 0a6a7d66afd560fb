// Running a bridge helper exactly as QEMU's -netdev bridge does, and receiving the TAP fd it sends.
import type { ConsolaInstance } from "consola";
import { receiveFds } from "../shared/fd-receive.ts";
import { errorCode, StepError, SysError } from "../shared/errors.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK } from "../shared/kernel.ts";
import { SOCK_STREAM } from "../shared/kernel-launcher.ts";
import { closeFd } from "../shared/libc.ts";
import { openSocketPair } from "../shared/libc-launcher.ts";
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
 * The text of `stream` up to OUTPUT_LIMIT bytes, read until its end, or until OUTPUT_GRACE_MS after
 * `exited` resolves when something else still holds the other end.
 */
async function readHelperOutput(stream: ReadableStream<Uint8Array>, exited: Promise<unknown>): Promise<string> {
  const reader = stream.getReader();
  const kept: Uint8Array[] = [];
  let size = 0;
  let finished = false;
  let grace: Timer | undefined;
  void exited.then(() => {
    if (!finished) grace = setTimeout(() => void reader.cancel(), OUTPUT_GRACE_MS);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size === OUTPUT_LIMIT) continue; // read on to the end, keep nothing more
      const part = value.subarray(0, OUTPUT_LIMIT - size);
      kept.push(part);
      size += part.byteLength;
    }
  } finally {
    finished = true;
    clearTimeout(grace);
  }
  return Buffer.concat(kept).toString("utf8");
}

/**
 * Runs `helper` for `bridge` with one end of an AF_UNIX stream socketpair as fd 3 and nothing else
 * open beyond stdio, waits for it, and returns the TAP it sent, non-blocking. The helper's stderr
 * is passed on as warnings when it succeeds and quoted in the error when it fails.
 * throws StepError when it cannot start, fails, is killed, or exits 0 without sending a TAP.
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
  const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
  let child;
  try {
    try {
      child = Bun.spawn({ cmd, stdio: ["ignore", "pipe", "pipe", theirs] });
    } catch (err) {
      // Out of fds is no fault of the helper: the launcher's report of it says what to raise.
      if (outOfFds(err) !== null) throw err;
      const code = errorCode(err);
      throw new StepError(`cannot run bridge helper ${helper}: ${code}`, {
        hint: code === "ENOENT" ? "install it (as root: tap-launcher install), or name it with --helper=PATH" : "check --helper",
      });
    } finally {
      // Only the helper may hold its end: one that sends nothing must leave us reading EOF, not waiting.
      closeFd(theirs);
    }
    const [stdout, stderr, exitCode] = await Promise.all([
      readHelperOutput(child.stdout, child.exited),
      readHelperOutput(child.stderr, child.exited),
      child.exited,
    ]);
    // One line for quoting: the helper's own log prefixes and blank lines add nothing here.
    const said = `${stderr}${stdout}`
      .replace(/^tap-bridge-helper: /gm, "")
      .replace(/\s+/g, " ")
      .trim();
    let received: number[] = [];
    try {
      received = receiveFds(ours, queues).fds;
    } catch (err) {
      // EAGAIN: nothing was sent (something the helper started may still hold its end).
      if (!(err instanceof SysError && err.code === "EAGAIN")) throw err;
    }
    const signal = signalOf(child);
    const hint = said.includes("access denied")
      ? "the helper's ACL or policy does not allow this to you: `tap-launcher doctor` shows what it allows"
      : queues > 1 && /usage|unknown|unrecognized|--queues/i.test(said)
        ? `--queues=${queues} needs a helper that knows --queues (tap-bridge-helper does; QEMU's qemu-bridge-helper does not): install it, or use --queues=1`
        : extensions.mac != null && /usage|unknown|unrecognized|--mac/i.test(said)
          ? "--mac needs a helper that knows --mac (tap-bridge-helper does; QEMU's qemu-bridge-helper does not): install it"
          : "";
    if (signal !== null || exitCode !== 0) {
      for (const fd of received) closeFd(fd);
      if (signal !== null)
        throw new StepError(`bridge helper ${helper} was killed by ${signal} for bridge ${bridge}${said ? `: ${said}` : ""}`);
      throw new StepError(
        `bridge helper ${helper} failed (exit status ${exitCode}) for bridge ${bridge}${said ? `: ${said}` : " without a message"}`,
        { hint },
      );
    }
    if (received.length === 0) {
      throw new StepError(`bridge helper ${helper} exited 0 without sending a TAP fd for bridge ${bridge}${said ? `: ${said}` : ""}`, {
        hint: "the helper is broken: QEMU would have taken fd 0 for the TAP. Use tap-bridge-helper (tap-launcher install)",
      });
    }
    if (received.length < queues) {
      for (const fd of received) closeFd(fd);
      throw new StepError(`bridge helper ${helper} sent only ${received.length} of the ${queues} TAP fds asked for, on bridge ${bridge}`, {
        hint: "the helper ignored --queues: use tap-bridge-helper (tap-launcher install), or --queues=1",
      });
    }
    if (said) log.warn(`bridge helper: ${said}`);
    return adoptTapQueues(received, `bridge helper ${helper}`);
  } finally {
    closeFd(ours);
  }
}
