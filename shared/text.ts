// Text checked, and turned into bytes and back, as RegExps and Node's Buffer would, without the cost of their first use at
// every start of a privileged program (~0.07 and ~0.25 ms: docs/benchmarks.md, "First uses").

/** Whether `text` is not empty and each character code in it is from `low` to `high`: /^[low-high]+$/. */
export function charsWithin(text: string, low: number, high: number): boolean {
  for (let at = 0; at < text.length; at += 1) if (text.charCodeAt(at) < low || text.charCodeAt(at) > high) return false;
  return text.length > 0;
}
export const isDecimal = (text: string): boolean => charsWithin(text, 0x30, 0x39);
/** /^[0-9a-f]+$/ */
export function isLowerHex(text: string): boolean {
  for (let at = 0; at < text.length; at += 1) if (!"0123456789abcdef".includes(text.charAt(at))) return false;
  return text.length > 0;
}

/** Buffer.from(text, "latin1") (or "ascii"): each UTF-16 unit's low byte. */
export function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let at = 0; at < text.length; at += 1) bytes[at] = text.charCodeAt(at) & 0xff;
  return bytes;
}

/** Buffer's toString("latin1"), in slices of 1,024 bytes: call arguments take stack, which the caller's RLIMIT_STACK bounds. */
export function latin1Text(bytes: Uint8Array): string {
  let text = "";
  for (let at = 0; at < bytes.byteLength; at += 1024)
    text += String.fromCharCode.apply(null, bytes.subarray(at, at + 1024) as unknown as number[]);
  return text;
}

const encoder = new TextEncoder();
/** Buffer.from(text, "utf8"): a lone surrogate becomes U+FFFD. */
export const utf8Bytes = (text: string): Uint8Array => encoder.encode(text);

/** Buffer.concat(parts). */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let at = 0;
  for (const part of parts) at += part.byteLength;
  const joined = new Uint8Array(at);
  at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  return joined;
}
