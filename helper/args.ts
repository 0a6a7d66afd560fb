// The helper's command line as QEMU and libvirt pass it, checked strictly, and its citty definition.
import type { CommandDef } from "citty";
import { MAX_QUEUES, parseQueueCount } from "../policy/verdicts.ts";
import { checkUsage, UsageError } from "../shared/errors.ts";
import { checkInterfaceName } from "../shared/ifname.ts";
import { VERSION } from "../shared/version.ts";

export interface HelperArgs {
  useVnet: boolean;
  bridge: string;
  /** Queues of the TAP (`--queues=N`, an extension of QEMU's protocol): one fd each, IFF_MULTI_QUEUE when above 1. */
  queues: number;
  /** The unix socket the TAP fd is sent over. */
  socketFd: number;
}

/**
 * The command's definition, for --help and usage; the arguments themselves are checked by
 * parseHelperArgv. citty itself is loaded only to render --help: the helper's every run must start fast.
 */
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
    help: { type: "boolean", description: "Show this help (only on its own)" },
    version: { type: "boolean", description: "Print the version (only on its own)" },
  },
} satisfies CommandDef;

/** One line for a usage error: libvirt shows the helper's stderr verbatim. */
export const HELPER_USAGE_LINE = "usage: tap-bridge-helper [--use-vnet] [--queues=N] --br=BRIDGE --fd=N";

/** The usage text, with colours only for a terminal. */
export async function helperUsage(forTerminal: boolean): Promise<string> {
  const [{ renderUsage }, { stripVTControlCharacters }] = await Promise.all([import("citty"), import("node:util")]);
  const text = await renderUsage(helperCommand);
  return forTerminal ? text : stripVTControlCharacters(text);
}

/**
 * Checks argv exactly: `--use-vnet`, `--br=NAME`, `--fd=N` and `--queues=N` in any order, each at
 * most once, `--br` and `--fd` required, nothing else. citty's own parser would also accept `--br NAME`, `-h`
 * or unknown flags; a privileged program takes only the forms QEMU and libvirt use.
 * Returns "help" for a lone `--help`, "version" for a lone `--version`. throws UsageError.
 */
export function parseHelperArgv(argv: readonly string[]): HelperArgs | "help" | "version" {
  if (argv.length === 1 && argv[0] === "--help") return "help";
  if (argv.length === 1 && argv[0] === "--version") return "version";
  let useVnet = false;
  let bridge: string | undefined;
  let socketFd: number | undefined;
  let queues = 1;
  const seen = new Set<string>();
  for (const arg of argv) {
    const key = arg === "--use-vnet" ? arg : arg.startsWith("--queues=") ? "--queues=" : arg.slice(0, 5);
    if (key !== "--use-vnet" && key !== "--br=" && key !== "--fd=" && key !== "--queues=") {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    if (seen.has(key)) throw new UsageError(`${key.replace("=", "")} given more than once`);
    seen.add(key);
    if (key === "--use-vnet") useVnet = true;
    else if (key === "--br=") bridge = arg.slice(5);
    else if (key === "--fd=") socketFd = parseSocketFd(arg.slice(5));
    else queues = parseQueues(arg.slice(key.length));
  }
  if (bridge === undefined) throw new UsageError("missing --br=BRIDGE");
  if (socketFd === undefined) throw new UsageError("missing --fd=N");
  checkUsage(() => checkInterfaceName(bridge, "bridge name"));
  return { useVnet, bridge, socketFd, queues };
}

function parseQueues(text: string): number {
  const queues = parseQueueCount(text);
  if (queues === null) {
    throw new UsageError(`--queues=${JSON.stringify(text).slice(1, -1)} is not a number of queues from 1 to ${MAX_QUEUES}`);
  }
  return queues;
}

function parseSocketFd(text: string): number {
  if (!/^[0-9]{1,9}$/.test(text)) {
    throw new UsageError(`--fd=${JSON.stringify(text).slice(1, -1)} is not a file descriptor number`);
  }
  const fd = Number(text);
  if (fd <= 2) {
    throw new UsageError(`--fd=${fd} is standard input, output or error, never the socket QEMU passes`);
  }
  return fd;
}
