// Where the programs the tests run inside namespaces are (each is run as `bun PATH ...`, never imported).
import { join } from "node:path";

/** Sends, captures and floods test frames on an interface (tests/support/packet-tool.ts). */
export const PACKET_TOOL = join(import.meta.dir, "packet-tool.ts");
/** A guest on the relay's fd 3 that echoes, counts or sends frames (tests/support/relay-guest.ts). */
export const RELAY_GUEST = join(import.meta.dir, "relay-guest.ts");
