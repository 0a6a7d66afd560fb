// Security review of the `ip=` port filter: frames that carry what the filter forbids behind an IPv6 fragment header or a service tag (fails while they pass).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ether, GUEST, ipv4, ipv6, ROUTER, udp, v6 } from "../support/frame-builders.ts";
import { framesCrossing, withBoundGuest } from "../support/bound-guest.ts";
import { installForTest, type TestInstall } from "../support/install.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
}, 120_000);
afterAll(() => installed.uninstall());

/** A neighbour advertisement for `target`. */
const advert = (target: number[]): number[] => [136, 0, 0, 0, 0x20, 0, 0, 0, ...target];
const FOREIGN6 = v6("2001:db8:0:8:0:0:0:5");
const LINK_LOCAL = v6("fe80:0:0:0:0:0:0:1");

/** An atomic fragment header (RFC 6946) in front of `nextHeader`: offset 0, no more fragments. */
const fragment = (nextHeader: number, payload: number[]): number[] => [nextHeader, 0, 0, 0, 0, 0, 0, 1, ...payload];
const ROUTER_ADVERT = [134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/** Frames the guest sends that the filter's rules forbid: none may reach the other side. */
const SENT: [string, number[], boolean][] = [
  ["router advertisement in an atomic fragment", ether(0x86dd, ipv6(LINK_LOCAL, 44, fragment(58, ROUTER_ADVERT))), false],
  [
    "neighbour advertisement for a foreign address in an atomic fragment",
    ether(0x86dd, ipv6(LINK_LOCAL, 44, fragment(58, advert(FOREIGN6)))),
    false,
  ],
  [
    "802.1ad-tagged IPv4 from a foreign address",
    [...ROUTER, ...GUEST, 0x88, 0xa8, 0, 5, 0x08, 0x00, ...ipv4("10.9.0.200", 17, udp(40, 50))],
    false,
  ],
  [
    "priority-tagged (VID 0) IPv4 from a foreign address",
    [...ROUTER, ...GUEST, 0x81, 0x00, 0xe0, 0, 0x08, 0x00, ...ipv4("10.9.0.200", 17, udp(40, 50))],
    false,
  ],
];
test("review: a guest under locked and ip= gets no forbidden ND message or foreign source out behind a fragment header or a tag", async () => {
  installed.setPolicy("alice br0 1 locked ip=10.9.0.64/28,2001:db8:0:7::/64\n");
  await withBoundGuest(installed, async (router, fd) => {
    expect(await framesCrossing(router, fd, SENT)).toEqual(SENT.map(([what, , expected]) => [what, expected]));
  });
}, 120_000);
