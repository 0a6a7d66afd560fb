// lxc-usernet read as lxc-user-nic's sscanf reads it: which lines count, and the values they give.
import { describe, expect, test } from "bun:test";
import { parseUsernet } from "../../../usernet/parse.ts";

const parse = (text: string) =>
  parseUsernet(Buffer.from(text, "latin1")).map(({ subject, type, bridge, count, line }) => [subject, type, bridge, count, line]);

describe("parseUsernet", () => {
  test("four fields per line, blanks or tabs between, in file order with their line numbers", () => {
    expect(parse("alice veth br0 2\n@lab\tveth\tlxcbr0\t10\n")).toEqual([
      ["alice", "veth", "br0", 2, 1],
      ["@lab", "veth", "lxcbr0", 10, 2],
    ]);
  });

  test("lines sscanf cannot fill are skipped: no count, no number, a leading blank, too few fields", () => {
    expect(parse("alice veth br0\nalice veth br0 x\n alice veth br0 1\nalice veth\n\n")).toEqual([]);
  });

  test("# is no comment marker but a subject that matches no one", () => {
    expect(parse("# alice veth br0 1\n")).toEqual([]);
    expect(parse("#alice veth br0 1\n")).toEqual([["#alice", "veth", "br0", 1, 1]]);
  });

  test("%d's reading of the count: trailing letters ignored, a sign, overflow as glibc stores it", () => {
    expect(parse("a veth br0 2x\nb veth br0 -3\nc veth br0 +4\nd veth br0 4294967297\ne veth br0 99999999999999999999\n")).toEqual([
      ["a", "veth", "br0", 2, 1],
      ["b", "veth", "br0", -3, 2],
      ["c", "veth", "br0", 4, 3],
      ["d", "veth", "br0", 1, 4],
      ["e", "veth", "br0", -1, 5],
    ]);
  });

  test("words after the count, a CR before the newline, no newline at the end", () => {
    expect(parse("alice veth br0 1 more words\r\nbob veth br0 2")).toEqual([
      ["alice", "veth", "br0", 1, 1],
      ["bob", "veth", "br0", 2, 2],
    ]);
  });

  test("a line ends at its first NUL, as a C string does", () => {
    expect(parse("alice veth br0 1\0junk\nbob veth\0 br0 1\n")).toEqual([["alice", "veth", "br0", 1, 1]]);
  });

  test("a field longer than 99 bytes spills into the next one, as %99[^ \\t] does", () => {
    const long = "a".repeat(120);
    expect(parse(`${long} veth br0 1\n`)).toEqual([]);
    expect(parse(`${"a".repeat(99)}veth br0 1 2\n`)).toEqual([["a".repeat(99), "veth", "br0", 1, 1]]);
  });
});
