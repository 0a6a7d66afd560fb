// The helper's command line as QEMU and libvirt pass it, checked strictly, and its citty definition.
import type { CommandDef } from "citty";
import { guestMacProblem, parseMac } from "../policy/address-prefix.ts";
import { MAX_QUEUES, parseQueueCount } from "../policy/verdicts.ts";
import { checkUsage, UsageError } from "../shared/errors.ts";
import { checkInterfaceName } from "../shared/ifname.ts";
import { isDecimal } from "../shared/text.ts";
import { VERSION } from "../shared/version.ts";

export interface HelperArgs {
  useVnet: boolean;
  bridge: string;
  /** Queues of the TAP (`--queues=N`, an extension of QEMU's protocol): one fd each, IFF_MULTI_QUEUE when above 1. */
  queues: number;
  socketFd: number;
  /** The guest's MAC address (`--mac=MAC`, an extension): registered as the port's only source under a `locked` line. */
  mac: Uint8Array | null;
}

/** For --help only (parseHelperArgv checks the arguments): citty is loaded only then, as every run must start fast. */
export const helperCommand = {
  meta: {
    name: "tap-bridge-helper",
    version: VERSION,
    description:
      "Create a TAP device, attach it to a bridge the ACL allows, and send its fd over a unix socket " +
      "(a drop-in for qemu-bridge-helper). Exit status: 0 fd sent, 1 anything else.",
  },
  args: {
    "use-vnet": { type: "boolean", description: "Request the virtio-net header (IFF_VNET_HDR) if the kernel offers it" },
    br: { type: "string", required: true, valueHint: "BRIDGE", description: "Bridge to attach the TAP to, checked against the ACL" },
    queues: {
      type: "string",
      valueHint: "N",
      description: `Make a multiqueue TAP and send its N queues (1 to ${MAX_QUEUES}) in one message; not in QEMU's helper`,
    },
    fd: { type: "string", required: true, valueHint: "N", description: "Open unix socket to send the TAP fd over (SCM_RIGHTS)" },
    mac: {
      type: "string",
      valueHint: "MAC",
      description: "The guest's MAC address (QEMU's mac=), required by a policy line that says locked; not in QEMU's helper",
    },
    help: { type: "boolean", description: "Show this help (only on its own)" },
    version: { type: "boolean", description: "Print the version (only on its own)" },
  },
} satisfies CommandDef;

/** One line for a usage error: libvirt shows the helper's stderr verbatim. */
export const HELPER_USAGE_LINE = "usage: tap-bridge-helper [--use-vnet] [--queues=N] [--mac=MAC] --br=BRIDGE --fd=N";

export async function helperUsage(forTerminal: boolean): Promise<string> {
  const [{ renderUsage }, { stripVTControlCharacters }] = await Promise.all([import("citty"), import("node:util")]);
  const text = await renderUsage(helperCommand);
  return forTerminal ? text : stripVTControlCharacters(text);
}

const OPTIONS = ["--use-vnet", "--br=", "--fd=", "--queues=", "--mac="] as const;

/** The option `arg` gives, if any. Loops here, not Array#find or a RegExp (docs/benchmarks.md, "First uses"). */
function optionOf(arg: string): (typeof OPTIONS)[number] | undefined {
  for (const option of OPTIONS) if (option === "--use-vnet" ? arg === option : arg.startsWith(option)) return option;
  return undefined;
}

/** Checks argv as strictly as a privileged program must: OPTIONS once at most, --br and --fd required, a lone --help or --version. */
export function parseHelperArgv(argv: readonly string[]): HelperArgs | "help" | "version" {
  if (argv.length === 1 && argv[0] === "--help") return "help";
  if (argv.length === 1 && argv[0] === "--version") return "version";
  const args: Omit<HelperArgs, "bridge" | "socketFd"> & Partial<HelperArgs> = { useVnet: false, queues: 1, mac: null };
  const seen: string[] = [];
  for (const arg of argv) {
    const key = optionOf(arg);
    if (key === undefined) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    if (seen.includes(key)) throw new UsageError(`${key.replace("=", "")} given more than once`);
    seen.push(key);
    const value = arg.slice(key.length);
    const shown = JSON.stringify(value).slice(1, -1);
    if (key === "--use-vnet") args.useVnet = true;
    else if (key === "--br=") args.bridge = value;
    else if (key === "--fd=") args.socketFd = parseSocketFd(value, shown);
    else if (key === "--mac=") args.mac = parseGuestMac(value, shown);
    else args.queues = parseQueues(value, shown);
  }
  const { bridge, socketFd } = args;
  if (bridge === undefined) throw new UsageError("missing --br=BRIDGE");
  if (socketFd === undefined) throw new UsageError("missing --fd=N");
  checkUsage(() => checkInterfaceName(bridge, "bridge name"));
  return { ...args, bridge, socketFd };
}

function parseQueues(text: string, shown: string): number {
  const queues = parseQueueCount(text);
  if (queues === null) throw new UsageError(`--queues=${shown} is not a number of queues from 1 to ${MAX_QUEUES}`);
  return queues;
}

function parseGuestMac(text: string, shown: string): Uint8Array {
  const mac = parseMac(text);
  if (mac === null) throw new UsageError(`--mac=${shown} is not a MAC address (six hex bytes joined by colons, as QEMU's mac=)`);
  const problem = guestMacProblem(mac);
  if (problem !== null) throw new UsageError(`--mac=${shown} cannot be a guest's address: ${problem}`);
  return mac;
}

function parseSocketFd(text: string, shown: string): number {
  if (text.length < 1 || text.length > 9 || !isDecimal(text)) throw new UsageError(`--fd=${shown} is not a file descriptor number`);
  const fd = Number(text);
  if (fd <= 2) throw new UsageError(`--fd=${fd} is standard input, output or error, never the socket QEMU passes`);
  return fd;
}
