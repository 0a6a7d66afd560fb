// The helper's command line as QEMU and libvirt pass it, checked strictly, and its citty definition.
import { stripVTControlCharacters } from "node:util";
import { defineCommand, renderUsage } from "citty";
import { checkUsage, UsageError } from "../shared/errors.ts";
import { checkInterfaceName } from "../shared/ifname.ts";

export interface HelperArgs {
  useVnet: boolean;
  bridge: string;
  /** The unix socket the TAP fd is sent over. */
  socketFd: number;
}

/** The command's definition, for --help and usage; the arguments themselves are checked by parseHelperArgv. */
const helperCommand = defineCommand({
  meta: {
    name: "tap-bridge-helper",
    description:
      "Create a TAP device, attach it to a bridge the ACL allows, and send its fd over a unix socket " +
      "(a drop-in for qemu-bridge-helper). Exit status: 0 fd sent, 1 anything else.",
  },
  args: {
    "use-vnet": { type: "boolean", description: "Request the virtio-net header (IFF_VNET_HDR) if the kernel offers it" },
    br: { type: "string", required: true, valueHint: "BRIDGE", description: "Bridge to attach the TAP to, checked against the ACL" },
    fd: { type: "string", required: true, valueHint: "N", description: "Open unix socket to send the TAP fd over (SCM_RIGHTS)" },
    help: { type: "boolean", description: "Show this help (only on its own)" },
  },
});

/** One line for a usage error: libvirt shows the helper's stderr verbatim. */
export const HELPER_USAGE_LINE = "usage: tap-bridge-helper [--use-vnet] --br=BRIDGE --fd=N";

/** The usage text, with colours only for a terminal. */
export async function helperUsage(forTerminal: boolean): Promise<string> {
  const text = await renderUsage(helperCommand);
  return forTerminal ? text : stripVTControlCharacters(text);
}

/**
 * Checks argv exactly: `--use-vnet`, `--br=NAME` and `--fd=N` in any order, each at most once,
 * `--br` and `--fd` required, nothing else. citty's own parser would also accept `--br NAME`, `-h`
 * or unknown flags; a privileged program takes only the forms QEMU and libvirt use.
 * Returns "help" for a lone `--help`. throws UsageError.
 */
export function parseHelperArgv(argv: readonly string[]): HelperArgs | "help" {
  if (argv.length === 1 && argv[0] === "--help") return "help";
  let useVnet = false;
  let bridge: string | undefined;
  let socketFd: number | undefined;
  const seen = new Set<string>();
  for (const arg of argv) {
    const key = arg === "--use-vnet" ? arg : arg.slice(0, 5);
    if (key !== "--use-vnet" && key !== "--br=" && key !== "--fd=") {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
    if (seen.has(key)) throw new UsageError(`${key.replace("=", "")} given more than once`);
    seen.add(key);
    if (key === "--use-vnet") useVnet = true;
    else if (key === "--br=") bridge = arg.slice(5);
    else socketFd = parseSocketFd(arg.slice(5));
  }
  if (bridge === undefined) throw new UsageError("missing --br=BRIDGE");
  if (socketFd === undefined) throw new UsageError("missing --fd=N");
  checkUsage(() => checkInterfaceName(bridge, "bridge name"));
  return { useVnet, bridge, socketFd };
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
