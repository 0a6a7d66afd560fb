// shared/text.ts against what it stands in for: Node's Buffer and the RegExps it replaced, on random and edge inputs (pure).
import { describe, expect, test } from "bun:test";
import { charsWithin, isDecimal, isLowerHex, joinBytes, latin1Bytes, latin1Text, utf8Bytes } from "../../../shared/text.ts";
import { interfaceNameProblem } from "../../../shared/ifname.ts";

/** A seeded generator, so that a failure is the same failure again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Strings of UTF-16 units from the ranges that matter: ASCII, latin1, beyond it, lone and paired surrogates. */
function randomStrings(count: number, seed: number): string[] {
  const next = random(seed);
  const ranges = [
    [0x00, 0x7f],
    [0x80, 0xff],
    [0x100, 0xd7ff],
    [0xd800, 0xdfff],
    [0xe000, 0xffff],
  ] as const;
  const strings = ["", "\0", "br0", "a\0b", "\u00ff\u0100", "\ud83d\ude00", "\ud800", "x".repeat(20_000)];
  while (strings.length < count) {
    let text = "";
    const length = Math.floor(next() * 40);
    for (let at = 0; at < length; at += 1) {
      const [low, high] = ranges[Math.floor(next() * ranges.length)] ?? [0, 0];
      text += String.fromCharCode(low + Math.floor(next() * (high - low + 1)));
    }
    strings.push(text);
  }
  return strings;
}

describe("bytes as Buffer makes them", () => {
  const strings = randomStrings(3000, 7);

  test("latin1 and ascii: each unit's low byte, and back", () => {
    for (const text of strings) {
      expect(latin1Bytes(text)).toEqual(new Uint8Array(Buffer.from(text, "latin1")));
      expect(latin1Bytes(text)).toEqual(new Uint8Array(Buffer.from(text, "ascii")));
      const bytes = Buffer.from(text, "latin1");
      expect(latin1Text(bytes)).toBe(bytes.toString("latin1"));
    }
    const every = Uint8Array.from({ length: 20_000 }, (_, at) => at % 256);
    expect(latin1Text(every)).toBe(Buffer.from(every).toString("latin1"));
  });

  test("UTF-8, lone surrogates included", () => {
    for (const text of strings) expect(utf8Bytes(text)).toEqual(new Uint8Array(Buffer.from(text, "utf8")));
  });

  test("joined parts, empty ones included", () => {
    const parts = strings.slice(0, 50).map((text) => Buffer.from(text, "utf8"));
    expect(joinBytes(parts)).toEqual(new Uint8Array(Buffer.concat(parts)));
    expect(joinBytes([])).toEqual(new Uint8Array(0));
  });
});

describe("character checks as the RegExps they replaced", () => {
  const strings = [...randomStrings(3000, 11), "0", "123456789", "12a", " 1", "-1", "٣", "00001000", "3fffffffff", "3FFF", "0x10", "g"];

  test("isDecimal is /^[0-9]+$/, isLowerHex /^[0-9a-f]+$/ and charsWithin(0x21, 0x7e) is /^[\\x21-\\x7e]+$/", () => {
    for (const text of strings) {
      expect(isDecimal(text)).toBe(/^[0-9]+$/.test(text));
      expect(isLowerHex(text)).toBe(/^[0-9a-f]+$/.test(text));
      expect(charsWithin(text, 0x21, 0x7e)).toBe(/^[\x21-\x7e]+$/.test(text));
    }
  });

  test("the interface name rule gives the answers the RegExp version gave", () => {
    const before = (name: string): string | null => {
      if (name.length === 0) return "it is empty";
      if (!/^[\x21-\x7e]*$/.test(name)) return "only printable ASCII without blanks is accepted";
      if (name.length >= 16) return `it is ${name.length} bytes long and the kernel allows at most 15`;
      if (name === "." || name === "..") return "`.` and `..` are not interface names";
      if (/[/:%]/.test(name)) return "it contains `/`, `:` or `%`";
      return null;
    };
    for (const name of [...strings, ".", "..", "br/0", "br:0", "tap%d", "a".repeat(15), "a".repeat(16)]) {
      expect(interfaceNameProblem(name)).toBe(before(name));
    }
  });
});
