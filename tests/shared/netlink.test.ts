// The rtnetlink message builder and reader, byte by byte, and the link operations against a real kernel in a throw-away namespace.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SysError } from "../../shared/errors.ts";
import { IFLA_IFNAME, IFLA_MASTER, IFLA_PROTINFO, NLMSG_DONE, NLMSG_ERROR, RTM_SETLINK } from "../../shared/kernel.ts";
import { AttributeList, encodeLinkRequest, messageErrno, parseLinkMessage, splitMessages } from "../../shared/netlink-message.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { ROOT } from "../support/build.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("building requests", () => {
  test("header, ifinfomsg and padded attributes, with their lengths", () => {
    const attributes = new AttributeList().string(IFLA_IFNAME, "br0").u32(IFLA_MASTER, 7).u8(33, 1);
    const message = encodeLinkRequest({ type: RTM_SETLINK, flags: 5, seq: 9, family: 7, index: 3 }, attributes);
    expect(hex(message)).toBe(
      "38000000" +
        "1300" +
        "0500" +
        "09000000" +
        "00000000" + // nlmsghdr: len 56, RTM_SETLINK, flags, seq, pid
        "07000000" +
        "03000000" +
        "00000000" +
        "00000000" + // ifinfomsg: family 7, index 3
        "0800" +
        "0300" +
        "62723000" + // IFLA_IFNAME "br0\0"
        "0800" +
        "0a00" +
        "07000000" + // IFLA_MASTER 7
        "0500" +
        "2100" +
        "01000000", // u8 33 = 1, padded to 4
    );
  });

  test("a nested attribute carries NLA_F_NESTED and the length of what it holds", () => {
    const attributes = new AttributeList().nested(IFLA_PROTINFO, (port) => port.u8(33, 1));
    expect(hex(attributes.bytes())).toBe("0c00" + "0c80" + "0500" + "2100" + "01000000");
  });

  test("an attribute too long for nla_len is a value error, not a truncated request", () => {
    expect(() => new AttributeList().string(1, "x".repeat(70000))).toThrow(RangeError);
  });
});

describe("reading replies", () => {
  function message(type: number, body: number[]): number[] {
    const length = 16 + body.length;
    return [length, 0, 0, 0, type, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, ...body];
  }

  test("several messages in one datagram, an error code, a link's attributes", () => {
    const link = message(16, [0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 3, 0, 0x74, 0x30, 0, 0, 8, 0, 10, 0, 2, 0, 0, 0]);
    const error = message(NLMSG_ERROR, [0xed, 0xff, 0xff, 0xff]); // -19, ENODEV
    const done = message(NLMSG_DONE, [0, 0, 0, 0]);
    const [first, second, third] = splitMessages(Uint8Array.from([...link, ...error, ...done]));
    if (first === undefined || second === undefined || third === undefined) throw new Error("three messages expected");
    const parsed = parseLinkMessage(first);
    expect(parsed.index).toBe(5);
    expect(parsed.attributes.string(IFLA_IFNAME)).toBe("t0");
    expect(parsed.attributes.u32(IFLA_MASTER)).toBe(2);
    expect(messageErrno(second)).toBe(19);
    expect(messageErrno(first)).toBe(null);
    expect(third.type).toBe(NLMSG_DONE);
  });

  test("a message or attribute that claims more than there is fails, never reads as complete", () => {
    const link = message(16, [0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 3, 0, 0x74, 0x30, 0, 0]);
    const [whole] = splitMessages(Uint8Array.from(link));
    if (whole === undefined) throw new Error("one message expected");
    expect(() => parseLinkMessage(whole)).toThrow(SysError);
    expect(() => splitMessages(Uint8Array.from(link).subarray(0, 30))).toThrow(/malformed reply/);
    expect(() => splitMessages(Uint8Array.from([8, 0, 0, 0, 2, 0]))).toThrow(/malformed reply/);
  });
});

describe("against the kernel", () => {
  const probe = (ns: TestNetns, ...args: string[]) =>
    ns.exec(process.execPath, join(ROOT, "tests/support/netlink-probe.ts"), ...args).then((out) => JSON.parse(out));
  const indexOf = async (ns: TestNetns, name: string) => Number((await ns.exec("cat", `/sys/class/net/${name}/ifindex`)).trim());

  test("a bridge's ports with their alias; an alias set; a port isolated", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec("ip", "tuntap", "add", "dev", "tapa", "mode", "tap", "user", "4101");
      await ns.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1");
      await ns.ip("tuntap", "add", "dev", "tapz", "mode", "tap"); // on no bridge
      for (const port of ["tapa", "v0"]) await ns.ip("link", "set", port, "master", "br0");
      const bridge = await indexOf(ns, "br0");
      const tapa = await indexOf(ns, "tapa");
      expect(await probe(ns, "alias", String(tapa), "tap-bridge-helper uid=4101")).toBe(null);
      const ports = await probe(ns, "ports", String(bridge));
      expect(ports.map((port: { name: string }) => port.name).sort()).toEqual(["tapa", "v0"]);
      const tap = ports.find((port: { name: string }) => port.name === "tapa");
      expect(tap).toMatchObject({ index: tapa, alias: "tap-bridge-helper uid=4101", master: bridge, tun: { owner: 4101 } });
      expect(ports.find((port: { name: string }) => port.name === "v0")).toMatchObject({ alias: null, tun: null });
      expect(await probe(ns, "isolate", String(tapa))).toBe(null);
      expect((await ns.link("tapa")).linkinfo).toMatchObject({ info_slave_kind: "bridge" });
      const detail = JSON.parse(await ns.ip("-j", "-d", "link", "show", "dev", "tapa"))[0];
      expect(detail.linkinfo.info_slave_data.isolated).toBe(true);
      expect(detail.ifalias).toBe("tap-bridge-helper uid=4101");
    });
  });

  test("alternative names: one added, refused when any device has it, found by name; a missing one is null", async () => {
    await withNetns(async (ns) => {
      await ns.ip("tuntap", "add", "dev", "tapa", "mode", "tap");
      await ns.ip("tuntap", "add", "dev", "tapb", "mode", "tap");
      const [tapa, tapb] = [await indexOf(ns, "tapa"), await indexOf(ns, "tapb")];
      expect(await probe(ns, "altname", String(tapa), "tbh-uid4101-br3-place0")).toBe(null);
      expect(await probe(ns, "altname", String(tapb), "tbh-uid4101-br3-place0")).toMatchObject({ error: "EEXIST" });
      expect(await probe(ns, "altname", String(tapb), "tapa")).toMatchObject({ error: "EEXIST" });
      expect(await probe(ns, "named", "0", "tbh-uid4101-br3-place0,tbh-uid4101-br3-place1,tapb")).toEqual(["tapa", null, "tapb"]);
      expect((await ns.link("tapa")).altnames).toEqual(["tbh-uid4101-br3-place0"]);
      // More names than one write carries (32): each answer still lands on its own name.
      await probe(ns, "altname", String(tapb), "tbh-uid4101-br3-place65");
      const many = Array.from({ length: 70 }, (_, place) => `tbh-uid4101-br3-place${place}`);
      const found = await probe(ns, "named", "0", many.join(","));
      expect(found).toEqual(many.map((_, place) => (place === 0 ? "tapa" : place === 65 ? "tapb" : null)));
      await ns.ip("link", "del", "tapa");
      expect(await probe(ns, "named", "0", "tbh-uid4101-br3-place0")).toEqual([null]);
    });
  });

  test("the kernel's errors come back as SysError codes", async () => {
    await withNetns(async (ns) => {
      await ns.ip("tuntap", "add", "dev", "tapz", "mode", "tap");
      const tapz = await indexOf(ns, "tapz");
      expect(await probe(ns, "isolate", String(tapz))).toMatchObject({ error: "EOPNOTSUPP" }); // not a bridge port
      expect(await probe(ns, "link", "999999")).toMatchObject({ error: "ENODEV" });
    });
  });
});
