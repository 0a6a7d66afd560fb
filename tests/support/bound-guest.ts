// A guest bound by `locked` and `ip=` on a real bridge whose uplink leads to a second namespace: the set-up the port filter's tests share, and what of the guest's frames crossed the uplink.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd, writeOrErrno } from "../../shared/libc.ts";
import { testAccounts } from "./accounts.ts";
import { tempFolder } from "./build.ts";
import { runHelper } from "./helper-run.ts";
import type { TestInstall } from "./install.ts";
import { TestNetns, withNetns } from "./netns.ts";
import { privateEtcPrefix } from "./private-etc.ts";
import { privateDevPrefix } from "./syslog-sink.ts";
import { ALICE, asUser } from "./users.ts";

/** The router's MAC on the uplink (frame-builders.ts ROUTER), whose own frames a capture leaves out. */
const UPLINK_MAC = "02:00:00:00:00:fe";

/**
 * Runs `body` with alice's TAP (`--mac` 52:54:00:00:00:0a, frame-builders.ts GUEST) on br0 under the
 * installed policy, and `router`, a namespace on br0's uplink; removes both whatever happens.
 */
export async function withBoundGuest(installed: TestInstall, body: (router: TestNetns, fd: number) => Promise<void>): Promise<void> {
  await withNetns(async (ns) => {
    const router = await TestNetns.create();
    try {
      await ns.addBridge("br0");
      // The bridge's netfilter hooks check IP headers themselves: off, so that only the port's filter decides.
      await ns.exec("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0");
      await ns.ip("link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", router.name);
      await ns.ip("link", "set", "uplink", "master", "br0", "up");
      await router.ip("link", "set", "eth0", "address", UPLINK_MAC, "up");
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
        await body(router, fd);
      } finally {
        closeFd(fd);
      }
    } finally {
      await router.dispose();
    }
  });
}

/** Writes each named frame to the guest's TAP; returns each name with whether its frame reached the router within a second. */
export async function framesCrossing(
  router: TestNetns,
  fd: number,
  frames: readonly (readonly [string, number[], ...unknown[]])[],
): Promise<[string, boolean][]> {
  const capture = join(tempFolder("tl-capture-"), "uplink.pcap");
  const tcpdump = Bun.spawn({
    cmd: [...router.prefix(), "tcpdump", "-i", "eth0", "-U", "-n", "-w", capture, `not ether src ${UPLINK_MAC}`],
    stdio: ["ignore", "ignore", "pipe"],
  });
  const reader = tcpdump.stderr.getReader();
  for (let said = ""; !said.includes("listening on"); ) said += new TextDecoder().decode((await reader.read()).value);
  for (const [, frame] of frames) {
    if (writeOrErrno(fd, Uint8Array.from(frame)) !== frame.length) throw new Error("a frame was not written whole to the TAP");
  }
  await Bun.sleep(1000);
  tcpdump.kill("SIGINT");
  await tcpdump.exited;
  const seen = new Set(pcapFrames(capture).map((frame) => Buffer.from(frame).toString("hex")));
  return frames.map(([what, frame]) => [what, seen.has(Buffer.from(frame).toString("hex"))]);
}

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
