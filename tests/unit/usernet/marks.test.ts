// The mark on a host veth: what it records, what counts read back from it, and who may delete the veth.
import { describe, expect, test } from "bun:test";
import { deleteProblem, type LinkFacts, vethsChargedTo } from "../../../usernet/charges.ts";
import { parseVethAlias, vethAlias } from "../../../usernet/marks.ts";

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
  });

  test("a delete is allowed for the caller's marked veth on that bridge only", () => {
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "veth", "br0", 2)).toBeNull();
    expect(deleteProblem(veth(3, ALICE_BR0), 4102, "veth", "br0", 2)).toBe("it does not carry your mark");
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "veth", "br0", 7)).toBe("it is not your veth on br0");
    expect(deleteProblem(veth(3, ALICE_BR0, 2, "tun"), 4101, "veth", "br0", 2)).toBe("it is not a veth");
    expect(deleteProblem(veth(3, null), 4101, "veth", "br0", 2)).toBe("it does not carry your mark");
    expect(deleteProblem(veth(3, ALICE_BR0), 4101, "macvlan", "br0", 2)).toBe("type macvlan is not one tap-user-nic makes");
  });
});
