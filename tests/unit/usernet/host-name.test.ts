// The host end's name at birth: the uid it carries, read back, and the veths it charges before their mark.
import { describe, expect, test } from "bun:test";
import { hostEndName, hostEndOwner, unmarkedVethsOf } from "../../../usernet/host-name.ts";
import type { LinkFacts } from "../../../usernet/charges.ts";
import { vethAlias } from "../../../usernet/marks.ts";

const ALICE_BR0 = vethAlias({ uid: 4101, subject: "alice", bridge: "br0" });

describe("host end names", () => {
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
