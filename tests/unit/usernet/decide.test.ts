// lxc-usernet's decision: the lines that match a caller, the one charged, and when none is.
import { describe, expect, test } from "bun:test";
import { decideUsernet, type UsernetCaller } from "../../../usernet/decide.ts";
import { parseUsernet } from "../../../usernet/parse.ts";

const ALICE: UsernetCaller = { userName: "alice", groupNames: ["lab"] };
const BOB: UsernetCaller = { userName: "bob", groupNames: [] };
const VETH_BR0 = { type: "veth", bridge: "br0" };
const lines = (text: string) => parseUsernet(Buffer.from(text));
const held = (counts: Record<string, number>) => (subject: string) => counts[subject] ?? 0;

describe("decideUsernet", () => {
  test("a user line with room is charged; at its COUNT the quota is reached", () => {
    const file = lines("alice veth br0 2\n");
    expect(decideUsernet(file, ALICE, VETH_BR0, held({ alice: 1 }))).toMatchObject({ verdict: "grant", line: { subject: "alice" } });
    expect(decideUsernet(file, ALICE, VETH_BR0, held({ alice: 2 })).verdict).toBe("quota-reached");
  });

  test("lines are tried in file order: a full user line passes the device to the caller's @group line", () => {
    const file = lines("alice veth br0 1\n@lab veth br0 2\n");
    expect(
      decideUsernet(file, ALICE, VETH_BR0, held({})).verdict === "grant" && decideUsernet(file, ALICE, VETH_BR0, held({})).matching.length,
    ).toBe(2);
    expect(decideUsernet(file, ALICE, VETH_BR0, held({ alice: 1 }))).toMatchObject({ verdict: "grant", line: { subject: "@lab" } });
    expect(decideUsernet(file, ALICE, VETH_BR0, held({ alice: 1, "@lab": 2 })).verdict).toBe("quota-reached");
  });

  test("a @group line is for members only; the type and the bridge must be the line's exactly", () => {
    const file = lines("@lab veth br0 1\n");
    expect(decideUsernet(file, BOB, VETH_BR0, held({})).verdict).toBe("no-line");
    expect(decideUsernet(file, ALICE, { type: "macvlan", bridge: "br0" }, held({})).verdict).toBe("no-line");
    expect(decideUsernet(file, ALICE, { type: "veth", bridge: "br1" }, held({})).verdict).toBe("no-line");
  });

  test("COUNTs that add up to 0 or less grant nothing, whatever is held", () => {
    expect(decideUsernet(lines("alice veth br0 0\n"), ALICE, VETH_BR0, held({})).verdict).toBe("no-line");
    expect(decideUsernet(lines("alice veth br0 2\n@lab veth br0 -2\n"), ALICE, VETH_BR0, held({})).verdict).toBe("no-line");
    expect(decideUsernet(lines("alice veth br0 -1\n@lab veth br0 2\n"), ALICE, VETH_BR0, held({}))).toMatchObject({
      verdict: "grant",
      line: { subject: "@lab" },
    });
  });

  test("a line of 0 is never charged, even before any device exists", () => {
    expect(decideUsernet(lines("alice veth br0 0\n@lab veth br0 2\n"), ALICE, VETH_BR0, held({}))).toMatchObject({
      verdict: "grant",
      line: { subject: "@lab" },
    });
  });
});
