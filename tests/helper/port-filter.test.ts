// The port filters of `locked` and `ip=` frame by frame: what a bound guest may send (IPv4, ARP, IPv6, ND, DHCP) and receive, on a real bridge.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readTestFrame, testFrame } from "../support/frames.ts";
import { BROADCAST, ether, GUEST, ipv4, ipv6, OTHER, ROUTER, udp, v4, v6 } from "../support/frame-builders.ts";
import { framesCrossing, withBoundGuest } from "../support/bound-guest.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { runOk } from "../support/proc.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
}, 120_000);
afterAll(() => installed.uninstall());

const arp = (sender: number[], senderIp: string, targetIp: string): number[] => [
  0,
  1,
  8,
  0,
  6,
  4,
  0,
  1,
  ...sender,
  ...v4(senderIp),
  0,
  0,
  0,
  0,
  0,
  0,
  ...v4(targetIp),
];
/** A neighbour advertisement for `target`. */
const advert = (target: number[]): number[] => [136, 0, 0, 0, 0x20, 0, 0, 0, ...target];
const OWN6 = v6("2001:db8:0:7:0:0:0:5");
const FOREIGN6 = v6("2001:db8:0:8:0:0:0:5");
const LINK_LOCAL = v6("fe80:0:0:0:0:0:0:1");
const UNSPECIFIED = v6("0:0:0:0:0:0:0:0");

/** Frames the guest sends, and whether the bridge's other side must see each. */
const SENT: [string, number[], boolean][] = [
  ["IPv4 from its own address", ether(0x0800, ipv4("10.9.0.66", 17, udp(40, 50))), true],
  ["ARP request from its own address", ether(0x0806, arp(GUEST, "10.9.0.66", "10.9.0.254"), GUEST, BROADCAST), true],
  ["ARP probe (sender 0.0.0.0)", ether(0x0806, arp(GUEST, "0.0.0.0", "10.9.0.70"), GUEST, BROADCAST), true],
  ["DHCP discover from 0.0.0.0", ether(0x0800, ipv4("0.0.0.0", 17, udp(68, 67), "255.255.255.255"), GUEST, BROADCAST), true],
  ["IPv6 from its own prefix", ether(0x86dd, ipv6(OWN6, 17, udp(40, 50))), true],
  ["IPv6 from a link-local address", ether(0x86dd, ipv6(LINK_LOCAL, 17, udp(40, 50))), true],
  // A first fragment (offset 0, more to come) of UDP: fragments of TCP and UDP pass, of ICMPv6 not (review-port-filter.test.ts).
  ["IPv6 fragment of UDP from its own prefix", ether(0x86dd, ipv6(OWN6, 44, [17, 0, 0, 1, 0, 0, 0, 7, ...udp(40, 50)])), true],
  ["neighbour advertisement for its own address", ether(0x86dd, ipv6(LINK_LOCAL, 58, advert(OWN6))), true],
  [
    "MLD report from :: behind a hop-by-hop header",
    ether(0x86dd, ipv6(UNSPECIFIED, 0, [58, 0, 5, 2, 0, 0, 1, 0, 143, 0, 0, 0, 0, 0, 0, 0])),
    true,
  ],
  ["IPv4 from a foreign address", ether(0x0800, ipv4("10.9.0.200", 17, udp(40, 50))), false],
  ["IPv4 from 0.0.0.0 not to a DHCP server", ether(0x0800, ipv4("0.0.0.0", 17, udp(67, 68), "255.255.255.255"), GUEST, BROADCAST), false],
  ["IPv4 from 0.0.0.0 over TCP", ether(0x0800, ipv4("0.0.0.0", 6, udp(68, 67))), false],
  [
    "IPv4 from 0.0.0.0 with a header length of 0 and a total length of 67",
    ether(0x0800, [0x40, 0, 0, 67, ...ipv4("0.0.0.0", 17, udp(68, 67), "255.255.255.255").slice(4)], GUEST, BROADCAST),
    false,
  ],
  ["ARP claiming the router's address", ether(0x0806, arp(GUEST, "10.9.0.254", "10.9.0.254"), GUEST, BROADCAST), false],
  ["ARP from its address for another MAC", ether(0x0806, arp(OTHER, "10.9.0.66", "10.9.0.254"), GUEST, BROADCAST), false],
  ["IPv6 from a foreign prefix", ether(0x86dd, ipv6(FOREIGN6, 17, udp(40, 50))), false],
  ["neighbour advertisement for a foreign address", ether(0x86dd, ipv6(LINK_LOCAL, 58, advert(FOREIGN6))), false],
  ["router advertisement", ether(0x86dd, ipv6(LINK_LOCAL, 58, [134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), false],
  [
    "neighbour advertisement behind a hop-by-hop header",
    ether(0x86dd, ipv6(LINK_LOCAL, 0, [58, 0, 1, 4, 0, 0, 0, 0, ...advert(FOREIGN6)])),
    false,
  ],
  [
    "VLAN-tagged IPv4 from its own address",
    [...ROUTER, ...GUEST, 0x81, 0x00, 0, 5, 0x08, 0x00, ...ipv4("10.9.0.66", 17, udp(40, 50))],
    false,
  ],
  ["another EtherType", ether(0x88b5, [1, 2, 3, 4, 5, 6, 7, 8]), false],
  ["IPv4 cut short before its source address", ether(0x0800, ipv4("10.9.0.66", 17, udp(40, 50))).slice(0, 30), false],
  ["IPv4 from its own address and another MAC", ether(0x0800, ipv4("10.9.0.66", 17, udp(40, 50)), OTHER), false],
];

test("a guest under locked and ip= gets out only frames from its MAC and its addresses, and gets in only frames for its MAC or a group", async () => {
  installed.setPolicy("alice br0 1 locked ip=10.9.0.64/28,2001:db8:0:7::/64\n");
  await withBoundGuest(installed, async (router, fd) => {
    expect(await framesCrossing(router, fd, SENT)).toEqual(SENT.map(([what, , expected]) => [what, expected]));

    // Towards the guest: its own MAC, broadcast and multicast; not unicast for another MAC (flooded when unknown).
    for (const [destination, marker] of [
      ["52:54:00:00:00:0a", "own"],
      ["ff:ff:ff:ff:ff:ff", "bcast"],
      ["01:00:5e:00:00:01", "mcast"],
      ["52:54:00:00:00:99", "other"],
    ] as const) {
      const frame = testFrame("02:00:00:00:00:fe", marker);
      frame.set(destination.split(":").map((part) => Number.parseInt(part, 16)));
      await runOk([
        ...router.prefix(),
        process.execPath,
        join(import.meta.dir, "../support/packet-tool.ts"),
        "send",
        "eth0",
        Buffer.from(frame).toString("hex"),
      ]);
    }
    const received: string[] = [];
    for (let frame = readTestFrame(fd, 1000); frame !== null; frame = readTestFrame(fd, 1000)) {
      received.push(new TextDecoder().decode(frame.subarray(14, 19)).replace(/[^a-z]/g, ""));
    }
    expect(received).toEqual(["own", "bcast", "mcast"]);
  });
}, 120_000);
