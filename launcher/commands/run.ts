// The launcher's main job: get a TAP (from the bridge helper, or an unmanaged one) and run the guest on it.
import { defineCommand, type ArgsDef, type CommandContext } from "citty";
import { MAX_QUEUES, parseQueueCount } from "../../policy/verdicts.ts";
import { checkUsage, UsageError } from "../../shared/errors.ts";
import { checkInterfaceName } from "../../shared/ifname.ts";
import { runBridgeHelper } from "../bridge-helper.ts";
import { loggerFor, reportFailure, verbosityArgs } from "../cli.ts";
import { closeInheritedFdsOnExec } from "../fds.ts";
import { execGuest, resolveGuest } from "../exec.ts";
import { defaultHelper } from "../layout.ts";
import { openUnmanagedTap } from "../unmanaged.ts";

export const runArgs = {
  br: { type: "string", default: "br0", valueHint: "BRIDGE", description: "Bridge the helper attaches the TAP to" },
  helper: {
    type: "string",
    valueHint: "CMD",
    description:
      "Bridge helper: a path, or a command line (run by /bin/sh when it has blanks), as QEMU's helper= (default: the installed one)",
  },
  tap: { type: "string", valueHint: "NAME", description: "With --unmanaged: an existing TAP to open instead of running the helper" },
  unmanaged: { type: "boolean", description: "Open the pre-configured TAP named by --tap and change nothing on it (no privilege needed)" },
  relay: {
    type: "enum",
    options: ["stream", "dgram"] satisfies ("stream" | "dgram")[],
    valueHint: "stream|dgram",
    description: "Keep the TAP and relay frames to the guest's fd 3 in QEMU's -netdev stream (length-prefixed) or dgram format",
  },
  pcap: {
    type: "string",
    valueHint: "FILE",
    description: "With --relay: write every frame relayed, both ways, to FILE in pcap format (tcpdump -r FILE); FILE must not exist",
  },
  "pcap-size": {
    type: "string",
    valueHint: "BYTES",
    description: "With --pcap: stop capturing before FILE passes BYTES (K, M, G: powers of 1024; 4K to 1024G; default 64M)",
  },
  stats: {
    type: "enum",
    options: ["text", "json"] satisfies ("text" | "json")[],
    valueHint: "text|json",
    description:
      "With --relay: print the counters on SIGUSR1 (and at exit with --verbose) as text, the default, or as one JSON line on stderr, also at exit",
  },
  queues: {
    type: "string",
    valueHint: "N",
    description: `Give the guest a multiqueue TAP: its N queues (1 to ${MAX_QUEUES}) as fds 3 to 3+N-1 and TAP_FDS=3:4:…; for QEMU, -netdev tap,id=n0,fds=3:4 -device virtio-net-pci,netdev=n0,mq=on,vectors=2N+2`,
  },
  ...verbosityArgs,
} satisfies ArgsDef;

/** Everything after `--`: the guest command (launcher/cli.ts checked every word before it). */
function guestCommand(rawArgs: readonly string[]): string[] {
  const separator = rawArgs.indexOf("--");
  return separator < 0 ? [] : rawArgs.slice(separator + 1);
}

/** Whether the option `--name` was given (rather than left at its default). */
function given(rawArgs: readonly string[], name: string): boolean {
  const separator = rawArgs.indexOf("--");
  return (separator < 0 ? rawArgs : rawArgs.slice(0, separator)).some((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
}

/** The number of queues `--queues` asks for (1 without it). throws UsageError. */
function queueCount(value: string | undefined): number {
  if (value === undefined) return 1;
  const queues = parseQueueCount(value);
  if (queues === null) throw new UsageError(`--queues must be a number of queues from 1 to ${MAX_QUEUES}, not ${JSON.stringify(value)}`);
  return queues;
}

/** --pcap-size's default: 64 MiB. */
const DEFAULT_CAPTURE_LIMIT = 64 * 1024 * 1024;
const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** The bound `--pcap-size` asks for, in bytes (the default without it). throws UsageError. */
function captureLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CAPTURE_LIMIT;
  const match = /^([1-9][0-9]{0,12})([KMG]?)$/.exec(value);
  const bytes = match === null ? Number.NaN : Number(match[1]) * (SIZE_UNITS[match[2] ?? ""] ?? Number.NaN);
  if (!(bytes >= 4096 && bytes <= 1024 ** 4)) {
    throw new UsageError(
      `--pcap-size must be a size in bytes from 4096 (4K) to 1024G, with K, M or G for powers of 1024, not ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}

/** The options that only make sense together, checked before anything is opened or run. throws UsageError. */
function checkCombination(args: CommandContext<typeof runArgs>["args"], rawArgs: readonly string[], command: readonly string[]): void {
  if (command.length === 0)
    throw new UsageError("no guest command: put it after --, e.g. tap-launcher --br=br0 -- qemu-system-x86_64 -netdev tap,id=n0,fd=3 …");
  if (args.unmanaged === true && args.tap === undefined) throw new UsageError("--unmanaged needs --tap=NAME, the TAP to open");
  if (args.tap !== undefined && args.unmanaged !== true) {
    throw new UsageError("--tap=NAME opens an existing TAP only with --unmanaged; without it the bridge helper makes the TAP");
  }
  const helperOption = ["br", "helper"].find((name) => given(rawArgs, name));
  if (args.tap !== undefined && helperOption !== undefined) {
    throw new UsageError(
      `--${helperOption} chooses what the bridge helper makes, so it does nothing with --unmanaged: give one or the other`,
    );
  }
  if (args.relay !== undefined && queueCount(args.queues) > 1) {
    throw new UsageError(
      `--relay carries one queue: --queues=${args.queues} works only when the guest gets the TAP itself (leave out --relay)`,
    );
  }
  for (const option of ["pcap", "pcap-size", "stats"]) {
    if (args.relay === undefined && given(rawArgs, option)) {
      throw new UsageError(`--${option} is about the relay's frames: it works only with --relay=stream|dgram`);
    }
  }
  if (args["pcap-size"] !== undefined && args.pcap === undefined)
    throw new UsageError("--pcap-size bounds the capture: it needs --pcap=FILE");
  captureLimit(args["pcap-size"]);
  checkUsage(() => (args.tap !== undefined ? checkInterfaceName(args.tap, "TAP name") : checkInterfaceName(args.br, "bridge name")));
}

export async function runLauncher({ args, rawArgs }: CommandContext<typeof runArgs>): Promise<void> {
  const log = loggerFor(args);
  const command = guestCommand(rawArgs);
  checkCombination(args, rawArgs, command);
  const relay = args.relay;
  const queues = queueCount(args.queues);
  await reportFailure(log, async () => {
    closeInheritedFdsOnExec();
    // A guest that cannot be found is said before anything is made: no TAP, no helper, no capture file.
    resolveGuest(command[0] ?? "");
    const tap =
      args.tap !== undefined
        ? openUnmanagedTap(args.tap, log, queues)
        : await runBridgeHelper(args.helper ?? defaultHelper(), args.br, log, queues);
    if (relay === undefined) {
      const where = queues === 1 ? "fd 3" : `fds ${tap.queues.map((_, i) => 3 + i).join(", ")} (${queues} queues)`;
      log.info(`${tap.name}${tap.vnetHeader ? " (vnet header)" : ""} is ${where} of ${command[0]}`);
      execGuest(command, tap);
    } else {
      log.info(`relaying ${tap.name} to fd 3 of ${command[0]} (${relay})`);
      // The relay's modules are evaluated only in relay mode: the hand-over's path to exec stays short.
      const { runGuestWithRelay } = await import("../relay-mode.ts");
      const capture = args.pcap === undefined ? null : { path: args.pcap, limit: captureLimit(args["pcap-size"]) };
      process.exitCode = await runGuestWithRelay(command, tap, relay, log, {
        capture,
        stats: args.stats ?? "text",
      });
    }
  });
}

export const run = defineCommand({
  meta: { name: "run", description: "Run a guest command with a TAP as its fd 3 (the default command)" },
  args: runArgs,
  run: runLauncher,
});
