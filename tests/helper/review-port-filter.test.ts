// Security review of the `ip=` port filter: frames that carry what the filter forbids behind an IPv6 fragment header or a service tag (fails while they pass).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd, writeOrErrno } from "../../shared/libc.ts";
import { testAccounts } from "../support/accounts.ts";
import { tempFolder } from "../support/build.ts";
import { ether, GUEST, ipv4, ipv6, ROUTER, udp, v6 } from "../support/frame-builders.ts";
import { runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { TestNetns, withNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { privateDevPrefix } from "../support/syslog-sink.ts";
import { ALICE, asUser } from "../support/users.ts";

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
/** The frames of a pcap file (classic format, as tcpdump -w writes it). */
function pcapFrames(path: string): Uint8Array[] {
  const bytes = readFileSync(path);
  const frames: Uint8Array[] = [];
  for (let at = 24; at + 16 <= bytes.length; ) {
    const length = bytes.readUInt32LE(at + 8);
    frames.push(bytes.subarray(at + 16, at + 16 + length));
    at += 16 + length;
  }
  return frames;
}

test("review: a guest under locked and ip= gets no forbidden ND message or foreign source out behind a fragment header or a tag", async () => {
  installed.setPolicy("alice br0 1 locked ip=10.9.0.64/28,2001:db8:0:7::/64\n");
  await withNetns(async (ns) => {
    const router = await TestNetns.create();
    try {
      await ns.addBridge("br0");
      // The bridge's netfilter hook checks IPv4 headers itself: off, so that only the port's filter decides.
      await ns.exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0");
      await ns.ip("link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", router.name);
      await ns.ip("link", "set", "uplink", "master", "br0", "up");
      await router.ip("link", "set", "eth0", "address", "02:00:00:00:00:fe", "up");
      const granted = await runHelper([
        ...ns.prefix(),
        ...privateEtcPrefix(testAccounts()),
        ...privateDevPrefix(null),
        ...asUser(ALICE),
        installed.shim,
        "--mac=52:54:00:00:00:0a",
        "--fd=3",
        "--br=br0",
      ]);
      const fd = granted.fd;
      if (fd === null) throw new Error(`no TAP: ${granted.stderr}`);
      try {
        const capture = join(tempFolder("tl-capture-"), "uplink.pcap");
        const tcpdump = Bun.spawn({
          cmd: [...router.prefix(), "tcpdump", "-i", "eth0", "-U", "-n", "-w", capture, "not ether src 02:00:00:00:00:fe"],
          stdio: ["ignore", "ignore", "pipe"],
        });
        const reader = tcpdump.stderr.getReader();
        for (let said = ""; !said.includes("listening on"); ) said += new TextDecoder().decode((await reader.read()).value);
        for (const [, frame] of SENT) expect(writeOrErrno(fd, Uint8Array.from(frame))).toBe(frame.length);
        await Bun.sleep(1000);
        tcpdump.kill("SIGINT");
        await tcpdump.exited;
        const seen = pcapFrames(capture).map((frame) => Buffer.from(frame).toString("hex"));
        const passed = SENT.map(([what, frame]) => [what, seen.includes(Buffer.from(frame).toString("hex"))]);
        expect(passed).toEqual(SENT.map(([what, , expected]) => [what, expected]));
      } finally {
        closeFd(fd);
      }
    } finally {
      await router.dispose();
    }
  });
}, 120_000);
