// IPv4/IPv6 address prefixes (`10.9.0.64/26`, `2001:db8:0:7::/64`) and MAC addresses as policy and helper read them (pure).

/** A prefix as 32-bit words in network order: one word for IPv4, four for IPv6; host bits are zero. */
export interface AddressPrefix {
  family: 4 | 6;
  /** The address with the host bits cleared, as 32-bit words. */
  words: number[];
  /** The mask of each word (0xffffffff for a word wholly inside the prefix). */
  masks: number[];
  length: number;
  /** As written back in messages and the audit line: `10.9.0.64/26`. */
  text: string;
}

/** The most prefixes one `ip=` takes: each costs a few filter instructions, and a slice of a subnet needs one or two. */
export const MAX_PREFIXES = 8;

function ipv4Words(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((part) => !/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255)) return null;
  return [parts.reduce((word, part) => ((word << 8) | Number(part)) >>> 0, 0)];
}

function ipv6Words(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined): string[] => (half === undefined || half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  if (all.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return null;
  const values = all.map((group) => Number.parseInt(group, 16));
  return [0, 1, 2, 3].map((i) => (((values[2 * i] ?? 0) << 16) | (values[2 * i + 1] ?? 0)) >>> 0);
}

function maskOfWord(length: number, word: number): number {
  const bits = Math.min(32, Math.max(0, length - 32 * word));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Writes a prefix back as text (IPv6 without `::` compression: this is only for messages and the audit line). */
function prefixText(family: 4 | 6, words: number[], length: number): string {
  if (family === 4) return `${[24, 16, 8, 0].map((shift) => ((words[0] ?? 0) >>> shift) & 0xff).join(".")}/${length}`;
  const groups = words.flatMap((word) => [word >>> 16, word & 0xffff].map((group) => group.toString(16)));
  return `${groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::")}/${length}`;
}

/**
 * Reads `ADDRESS/LENGTH` (IPv4 dotted quad, or IPv6) with no host bits set, or a problem as text.
 * A prefix with host bits set is refused rather than widened: `10.9.0.70/26` is likely a typing error.
 */
export function parseAddressPrefix(text: string): AddressPrefix | string {
  const slash = text.indexOf("/");
  if (slash < 0) return `"${text}" has no /LENGTH`;
  const address = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const family = address.includes(":") ? 6 : 4;
  const words = family === 4 ? ipv4Words(address) : ipv6Words(address);
  if (words === null) return `"${address}" is not an IPv${family} address`;
  const bits = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits)
    return `"/${lengthText}" is not a prefix length from 0 to ${bits}`;
  const length = Number(lengthText);
  const masks = words.map((_, index) => maskOfWord(length, index));
  if (words.some((word, index) => (word & ~(masks[index] ?? 0)) !== 0)) {
    return `"${text}" has host bits set (the prefix of ${address}/${length} starts lower)`;
  }
  return { family, words, masks, length, text: prefixText(family, words, length) };
}

/** Reads `PREFIX[,PREFIX…]` (at most MAX_PREFIXES, no repeats), or a problem as text. */
export function parsePrefixList(text: string): AddressPrefix[] | string {
  const items = text.split(",");
  if (items.length > MAX_PREFIXES) return `more than ${MAX_PREFIXES} prefixes`;
  const prefixes: AddressPrefix[] = [];
  for (const item of items) {
    const prefix = parseAddressPrefix(item);
    if (typeof prefix === "string") return prefix;
    if (prefixes.some((earlier) => earlier.text === prefix.text)) return `${prefix.text} given twice`;
    prefixes.push(prefix);
  }
  return prefixes;
}

/** Reads `xx:xx:xx:xx:xx:xx` (hex digits, either case), or null. */
export function parseMac(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return null;
  return Uint8Array.from(text.split(":").map((part) => Number.parseInt(part, 16)));
}

/** Why `mac` cannot be a guest's own address (multicast or broadcast, all zeros), or null. */
export function guestMacProblem(mac: Uint8Array): string | null {
  if (((mac[0] ?? 0) & 1) !== 0) return "it is a multicast (group) address";
  if (mac.every((byte) => byte === 0)) return "it is all zeros";
  return null;
}
