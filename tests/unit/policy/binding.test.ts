// `locked` and `ip=` in the policy language, the prefixes and MACs they take, and the helper's --mac (pure; runs as any user).
import { describe, expect, test } from "bun:test";
import { parsePolicyText } from "../../../policy/rules.ts";
import { parseHelperArgv } from "../../../helper/args.ts";
import { parseAddressPrefix, parseMac, parsePrefixList } from "../../../policy/address-prefix.ts";
import { UsageError } from "../../../shared/errors.ts";

const FILE = "/etc/qemu/bridge-policy.conf";
const parse = (text: string) => parsePolicyText(Buffer.from(text, "latin1"), FILE);

describe("the policy's locked and ip=", () => {
  test("on the same line as isolated and queues=, in any order; a line without them binds nothing", () => {
    const [bound, plain] = parse("@students br0 2 isolated locked ip=10.9.0.64/26,2001:db8:0:7::/64 queues=2\nbob br0 1\n");
    expect(bound?.locked).toBe(true);
    expect(bound?.isolated).toBe(true);
    expect(bound?.maxQueues).toBe(2);
    expect(bound?.addresses?.map((prefix) => prefix.text)).toEqual(["10.9.0.64/26", "2001:db8:0:7::/64"]);
    expect(plain).toMatchObject({ locked: false, addresses: null });
    expect(parse("* all 1 ip=10.0.0.0/8 locked")[0]).toMatchObject({ locked: true, isolated: false });
  });

  for (const [line, problem] of [
    ["a br0 1 locked locked", /locked given twice/],
    ["a br0 1 ip=10.0.0.0/8 ip=10.1.0.0/16", /ip given twice/],
    ["a br0 1 ip=", /invalid ip= "ip=": "" has no \/LENGTH/],
    ["a br0 1 ip=10.9.0.70/26", /"10.9.0.70\/26" has host bits set/],
    ["a br0 1 ip=10.9.0.256/32", /"10.9.0.256" is not an IPv4 address/],
    ["a br0 1 ip=10.9.0.0/33", /"\/33" is not a prefix length from 0 to 32/],
    ["a br0 1 ip=2001:db8::1::/64", /is not an IPv6 address/],
    ["a br0 1 ip=10.0.0.0/8,10.0.0.0/8", /10.0.0.0\/8 given twice/],
    ["a br0 1 ip=1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,7.0.0.0/8,8.0.0.0/8,9.0.0.0/8", /more than 8 prefixes/],
    ["a br0 1 lock", /unknown option "lock": expected isolated or queues=N or locked or ip=PREFIX/],
  ] as const) {
    test(`refuses ${JSON.stringify(line)}`, () => {
      expect(() => parse(line)).toThrow(problem);
    });
  }
});

describe("prefixes and MACs", () => {
  test("IPv4 and IPv6 prefixes as 32-bit words and masks, written back in short form", () => {
    expect(parseAddressPrefix("10.9.0.64/26")).toEqual({
      family: 4,
      words: [0x0a090040],
      masks: [0xffffffc0],
      length: 26,
      text: "10.9.0.64/26",
    });
    expect(parseAddressPrefix("0.0.0.0/0")).toMatchObject({ words: [0], masks: [0] });
    expect(parseAddressPrefix("2001:DB8:0:7::/64")).toEqual({
      family: 6,
      words: [0x20010db8, 0x00000007, 0, 0],
      masks: [0xffffffff, 0xffffffff, 0, 0],
      length: 64,
      text: "2001:db8:0:7::/64",
    });
    expect(parseAddressPrefix("fd00::1:0/112")).toMatchObject({
      words: [0xfd000000, 0, 0, 0x00010000],
      masks: [~0 >>> 0, ~0 >>> 0, ~0 >>> 0, 0xffff0000],
    });
    expect(parseAddressPrefix("::/0")).toMatchObject({ family: 6, words: [0, 0, 0, 0], text: "::/0" });
    expect(parsePrefixList("10.9.0.0/28,10.9.0.16/28")).toHaveLength(2);
    for (const bad of ["10.9.0.1", "010.9.0.0/24", "10.9.0/24", "1:2:3:4:5:6:7:8:9/64", "fe80::/10/1", "10.9.0.0/024"]) {
      expect(typeof parseAddressPrefix(bad)).toBe("string");
    }
  });

  test("MACs: six hex bytes with colons", () => {
    expect(parseMac("52:54:00:AB:cd:0f")).toEqual(Uint8Array.of(0x52, 0x54, 0, 0xab, 0xcd, 0x0f));
    for (const bad of ["52:54:00:ab:cd", "52-54-00-ab-cd-0f", "52:54:00:ab:cd:0g", "5254.00ab.cd0f"]) expect(parseMac(bad)).toBe(null);
  });
});

describe("the helper's --mac", () => {
  const usage = (argv: string[]): string => {
    try {
      parseHelperArgv(argv);
      return "accepted";
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      return err.message;
    }
  };

  test("accepted once, in any position; QEMU's arguments without it are read as before", () => {
    expect(parseHelperArgv(["--mac=52:54:00:12:34:56", "--use-vnet", "--fd=3", "--br=br0"])).toMatchObject({
      mac: Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56),
      useVnet: true,
      socketFd: 3,
    });
    expect(parseHelperArgv(["--use-vnet", "--fd=3", "--br=br0"])).toMatchObject({ mac: null });
  });

  test("refused when malformed, a group address, all zeros, repeated or without =", () => {
    expect(usage(["--mac=52:54:00:12:34", "--fd=3", "--br=br0"])).toBe(
      "--mac=52:54:00:12:34 is not a MAC address (six hex bytes joined by colons, as QEMU's mac=)",
    );
    expect(usage(["--mac=ff:ff:ff:ff:ff:ff", "--fd=3", "--br=br0"])).toBe(
      "--mac=ff:ff:ff:ff:ff:ff cannot be a guest's address: it is a multicast (group) address",
    );
    expect(usage(["--mac=00:00:00:00:00:00", "--fd=3", "--br=br0"])).toBe(
      "--mac=00:00:00:00:00:00 cannot be a guest's address: it is all zeros",
    );
    expect(usage(["--mac=52:54:00:12:34:56", "--mac=52:54:00:12:34:57", "--fd=3", "--br=br0"])).toBe("--mac given more than once");
    expect(usage(["--mac", "52:54:00:12:34:56", "--fd=3", "--br=br0"])).toBe('unknown argument "--mac"');
  });
});
