// Relay mode: the launcher keeps the TAP and relays frames to the guest over a socketpair (QEMU's stream/dgram).
import { fstatSync, lstatSync, unlinkSync } from "node:fs";
import type { ConsolaInstance } from "consola";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from "../shared/kernel.ts";
import { SOCK_STREAM, TUN_F_NONE, TUNSETOFFLOAD, TUNSETVNETHDRSZ, VIRTIO_NET_HDR_LEN } from "../shared/kernel-launcher.ts";
import { StepError, systemReason } from "../shared/errors.ts";
import { ioctl } from "../shared/libc.ts";
import { openSocketPair } from "../shared/libc-launcher.ts";
import { writeText } from "../shared/log.ts";
import { createCaptureFile } from "./capture-file.ts";
import { countersJson, formatCounters, type RelayCounters } from "./datapath/counters.ts";
import { kernelTapDrops, Relay } from "./datapath/relay.ts";
import type { RelayMode } from "./datapath/relay-state.ts";
import { release, setNonBlocking } from "./fds.ts";
import { startGuest } from "./guest.ts";
import type { OpenedTap } from "./tap-fd.ts";

/** What --pcap, --pcap-size and --stats asked for. */
export interface RelayOptions {
  /** --pcap=FILE and its bound in bytes, or null. */
  capture: { path: string; limit: number } | null;
  /** --stats: the counters as two human lines (logged), or one JSON line (bare, on stderr). */
  stats: "text" | "json";
}

/** Prints the counters: one bare JSON line with --stats=json (jq and JSON.parse take it as it is), else text. */
function printCounters(
  counters: RelayCounters,
  event: "signal" | "exit",
  tapName: string,
  stats: RelayOptions["stats"],
  log: ConsolaInstance,
): void {
  const kernelDrops = kernelTapDrops(tapName);
  if (stats === "json") writeText(2, `${countersJson(counters, kernelDrops, event)}\n`);
  else {
    // One tagged line per direction.
    for (const line of formatCounters(counters, kernelDrops).split("\n")) {
      if (event === "signal") log.info(line);
      else log.debug(line);
    }
  }
}

/** Removes `path` if it is still the file open as `fd` (not one put there meanwhile); a failure changes nothing else. */
function removeOwnFile(path: string, fd: number): void {
  try {
    const open = fstatSync(fd);
    const named = lstatSync(path);
    if (open.dev === named.dev && open.ino === named.ino) unlinkSync(path);
  } catch {
    // gone already, or not ours to remove: the error that brought us here is the one to report
  }
}

/**
 * Readies the TAP for the relay as QEMU readies every TAP fd it is given: offloads off, so that the
 * kernel never hands over a GSO frame, and the 10-byte header the relay strips and adds (an earlier
 * holder may have left offloads on and a 12-byte header, which would shift every frame by 2 bytes).
 * A TAP with packet information is refused: its frames carry a prefix the guest's formats do not.
 * throws StepError.
 */
function prepareTapForRelay(tap: OpenedTap): void {
  if (tap.packetInfo) {
    throw new StepError(
      `TAP ${tap.name} carries packet information (it was made with pi), which the relay does not move: it relays plain frames`,
      { hint: `leave out --relay (the guest then gets the TAP as it is), or have an administrator make ${tap.name} again without pi` },
    );
  }
  if (!tap.vnetHeader) return;
  try {
    ioctl(tap.fd, TUNSETOFFLOAD, "TUNSETOFFLOAD", TUN_F_NONE, tap.name);
    ioctl(tap.fd, TUNSETVNETHDRSZ, "TUNSETVNETHDRSZ", new Uint8Array(Int32Array.of(VIRTIO_NET_HDR_LEN).buffer), tap.name);
  } catch (err) {
    throw new StepError(`failed to set up TAP ${tap.name} for the relay: ${systemReason(err)}`, { cause: err });
  }
}

/** When the relay ends before the guest (a TAP gone, a broken guest), says why and closes the guest's connection. */
function closeWhenRelayEnds(relay: Relay, closeConnection: () => void, log: ConsolaInstance): void {
  relay.ended.then(
    ({ end }) => {
      if (end.reason === "stopped") return;
      if (end.reason === "guest-closed") log.debug(`relay: ${end.detail}`);
      else log.error(`relay stopped, closing the guest's connection: ${end.detail}`);
      closeConnection(); // the guest sees the end of its connection
    },
    (err: unknown) => {
      log.error(systemReason(err));
      closeConnection();
    },
  );
}

/**
 * Runs the guest with one end of an AF_UNIX socketpair (SOCK_STREAM or SOCK_DGRAM) as fd 3 and relays
 * frames between it and the TAP until the guest exits, after prepareTapForRelay. Counters
 * are printed on SIGUSR1, and at exit with --verbose (text) or always (JSON: it was asked for by
 * name). With a capture, its file is made before the guest starts. Closes the TAP, both socket ends
 * and the capture file. Returns the guest's exit status. throws StepError.
 */
export async function runGuestWithRelay(
  command: string[],
  tap: OpenedTap,
  mode: RelayMode,
  log: ConsolaInstance,
  options: RelayOptions,
): Promise<number> {
  let ours = -1;
  let captureFd = -1;
  let relay: Relay | null = null;
  let guestStarted = false;
  const closeOurs = () => {
    if (ours < 0) return;
    release(ours);
    ours = -1;
  };
  const showCounters = () => {
    // A relay that failed was reported when it ended; a signal must not turn that into a crash.
    relay
      ?.counters()
      .then((counters) => printCounters(counters, "signal", tap.name, options.stats, log))
      .catch((err: unknown) => log.warn(`the relay's counters could not be printed: ${systemReason(err)}`));
  };
  try {
    prepareTapForRelay(tap);
    if (options.capture !== null) captureFd = createCaptureFile(options.capture.path);
    const [launcherEnd, guestEnd] = openSocketPair(AF_UNIX, (mode === "stream" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC);
    ours = launcherEnd;
    let exited: Promise<number>;
    try {
      setNonBlocking(ours);
      const capture = options.capture === null ? null : { fd: captureFd, ...options.capture };
      relay = new Relay(
        { tapFd: tap.fd, guestFd: ours, mode, vnetHeaderLength: tap.vnetHeader ? VIRTIO_NET_HDR_LEN : 0, capture },
        (message) => log.warn(message),
      );
      // fd 3 is a socket here, not the TAP: TAP_RELAY says which framing it speaks.
      exited = startGuest(command, guestEnd, { TAP_RELAY: mode, TAP_IFNAME: tap.name }, log);
    } finally {
      release(guestEnd);
    }
    guestStarted = true;
    process.on("SIGUSR1", showCounters);
    // Said once SIGUSR1 is handled, with the pid, so that a user signals exactly this launcher (pgrep -f
    // also finds wrappers such as timeout, and every user's launcher when run as root).
    log.info(`relaying ${tap.name} to fd 3 of ${command[0]} (${mode}); kill -USR1 ${process.pid} prints its counters`);
    closeWhenRelayEnds(relay, closeOurs, log);
    const status = await exited;
    // The guest's status is what the launcher returns, also when the relay failed (said already) or
    // its counters cannot be read or printed now.
    try {
      const result = await relay.stop().catch(() => null);
      if (result !== null) printCounters(result.counters, "exit", tap.name, options.stats, log);
    } catch (err) {
      log.warn(`the relay's counters at exit could not be printed: ${systemReason(err)}`);
    }
    return status;
  } catch (err) {
    // A capture made for a guest that never ran would only make the next run with this --pcap fail.
    if (!guestStarted && captureFd >= 0 && options.capture !== null) removeOwnFile(options.capture.path, captureFd);
    throw err;
  } finally {
    process.off("SIGUSR1", showCounters);
    if (relay !== null) await relay.stop().catch(() => undefined);
    closeOurs();
    if (captureFd >= 0) release(captureFd);
    release(tap.fd);
  }
}
