// The mark on a host veth: what it records, what counts read back from it, and who may delete the veth.
import { describe, expect, test } from "bun:test";
import {
  deleteProblem,
  hostEndName,
  hostEndOwner,
  type LinkFacts,
  parseVethAlias,
  unmarkedVethsOf,
  vethAlias,
  vethsChargedTo,
  vethsHeldBy,
} from "../../../usernet/marks.ts";

const veth = (index: number, alias: string | null, master: number | null = 2, kind: string | null = "veth"): LinkFacts => ({
  index,
  name: `veth${index}`,
  kind,
  alias,
  master,
});
const ALICE_BR0 = vethAlias({ uid: 4101, subject: "alice", bridge: "br0" });
const CAROL_LAB = vethAlias({ uid: 4103, subject: "@lab", bridge: "br0" });

describe("veth marks", () => {
  test("the alias records the holder, the line charged and the bridge, and reads back", () => {
    expect(ALICE_BR0).toBe("tap-user-nic uid=4101 charged=alice bridge=br0");
    expect(parseVethAlias(CAROL_LAB)).toEqual({ uid: 4103, subject: "@lab", bridge: "br0" });
    expect(parseVethAlias("tap-bridge-helper uid=4101")).toBeNull();
    expect(parseVethAlias(`${ALICE_BR0} extra`)).toBeNull();
  });

  test("a line's count is every veth charged to its subject on its bridge, whoever holds it; only veths count", () => {
    const links = [
      veth(3, ALICE_BR0),
      veth(4, CAROL_LAB),
      veth(5, vethAlias({ uid: 4101, subject: "@lab", bridge: "br0" })),
      veth(6, ALICE_BR0, 2, "tun"),
    ];
    expect(vethsChargedTo(links, "@lab", "br0")).toBe(2);
    expect(vethsChargedTo(links, "alice", "br0")).toBe(1);
    expect(vethsChargedTo(links, "alice", "br1")).toBe(0);
    expect(vethsHeldBy(links, 4101)).toEqual(["veth3", "veth5"]);
  });

  test("a delete is allowed for the caller's marked veth on that bridge only", () => {
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "veth", "br0", 2)).toBeNull();
    expect(deleteProblem(veth(3, ALICE_BR0), 4102, "veth", "br0", 2)).toBe("it does not carry your mark");
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "veth", "br0", 7)).toBe("it is not your veth on br0");
    expect(deleteProblem(veth(3, ALICE_BR0, 2, "tun"), 4101, "veth", "br0", 2)).toBe("it is not a veth");
    expect(deleteProblem(veth(3, null), 4101, "veth", "br0", 2)).toBe("it does not carry your mark");
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "macvlan", "br0", 2)).toBe("type macvlan is not one tap-user-nic makes");
  });

  test("a host end's name charges it to its caller from birth: 15 characters at most, the uid read back", () => {
    expect(hostEndName(4101, "Ab3Zxyz")).toBe("veth000035xAb3Z");
    expect(hostEndName(4294967295, "Ab3Z")).toBe("veth1z141z3Ab3Z");
    expect(hostEndName(0, "aaaa")).toBe("veth0000000aaaa");
    expect(hostEndOwner("veth000035xAb3Z")).toBe(4101);
    expect(hostEndOwner("veth1z141z3Ab3Z")).toBe(4294967295);
    // lxc-user-nic's, Docker's and LXD's names, an upper-case uid, one letter too many or too few: no one's.
    for (const name of ["vethAbC123", "veth1a2b3c4", "veth1234abcd", "veth000035XAb3Z", "veth000035xAb3Zq", "veth000035xAb3"]) {
      expect(hostEndOwner(name)).toBeNull();
    }
  });

  test("a veth named for a uid counts against it only while it carries no mark (a create killed before the alias)", () => {
    const named = (index: number, name: string, alias: string | null, kind = "veth"): LinkFacts => ({
      index,
      name,
      kind,
      alias,
      master: null,
    });
    const links = [
      named(3, hostEndName(4101, "aaaa"), null),
      named(4, hostEndName(4101, "bbbb"), ALICE_BR0),
      named(5, hostEndName(4102, "aaaa"), null),
      named(6, hostEndName(4101, "cccc"), null, "tun"),
      named(7, hostEndName(4101, "dddd"), "some alias root gave"),
    ];
    expect(unmarkedVethsOf(links, 4101).map((link) => link.index)).toEqual([3, 7]);
    expect(unmarkedVethsOf(links, 4102).map((link) => link.index)).toEqual([5]);
  });
});
