// Many requests at once under a policy file, as a lab or CI farm starts its VMs: all served, the quota exact, nothing left.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { placeName } from "../../policy/holders.ts";
import { closeFd } from "../../shared/libc.ts";
import { testAccounts } from "../support/accounts.ts";
import { tempFolder } from "../support/build.ts";
import { runHelper, type HelperOutcome } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { privateDevPrefix } from "../support/syslog-sink.ts";
import { ALICE, asUser, BOB } from "../support/users.ts";

let installed: TestInstall;
const accounts = testAccounts();
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
}, 120_000);
afterAll(() => installed.uninstall());

/** `count` requests by alice at the same moment, run as QEMU runs the helper. */
function requestsAtOnce(ns: TestNetns, count: number): Promise<HelperOutcome[]> {
  const etc = privateEtcPrefix(accounts);
  const cmd = [...ns.prefix(), ...etc, ...privateDevPrefix(null), ...asUser(ALICE), installed.shim, "--fd=3", "--br=br0"];
  return Promise.all(Array.from({ length: count }, () => runHelper(cmd)));
}

function closeAll(outcomes: HelperOutcome[]): void {
  for (const outcome of outcomes) for (const fd of outcome.fds) closeFd(fd);
}

/** What went wrong, one line per distinct message: the assertion's output names the refusals. */
function failures(outcomes: HelperOutcome[]): string[] {
  return [...new Set(outcomes.filter((outcome) => outcome.exitCode !== 0 || outcome.fd === null).map((outcome) => outcome.stderr.trim()))];
}

/** `count` persistent TAPs on br0, each holding one of bob's places there: ports on alice's bridge, none counted for her. */
async function addMarkedPorts(ns: TestNetns, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `held${i}`);
  const batch = join(tempFolder("tl-ports-"), "batch");
  const bridgeIndex = Number((await ns.exec("cat", "/sys/class/net/br0/ifindex")).trim());
  const lines = names.flatMap((name, i) => [
    `tuntap add dev ${name} mode tap`,
    `link property add dev ${name} altname ${placeName(BOB.uid, bridgeIndex, i)}`,
    `link set dev ${name} master br0 up`,
  ]);
  writeFileSync(batch, `${lines.join("\n")}\n`);
  await ns.ip("-batch", batch);
  return names;
}

async function tapsOf(ns: TestNetns): Promise<string[]> {
  return (await ns.tapNames()).sort();
}

describe("concurrent requests under a policy file", () => {
  test("200 at once on an empty bridge under a policy that admits them: every one gets its TAP, nothing is left", async () => {
    installed.setPolicy("* br0 1024\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcomes = await requestsAtOnce(ns, 200);
      try {
        expect(failures(outcomes)).toEqual([]);
        expect((await tapsOf(ns)).length).toBe(200);
      } finally {
        closeAll(outcomes);
      }
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 300_000);

  test("20, then 200 at once with 300 ports on the bridge: every one gets its TAP, only the 300 are left", async () => {
    installed.setPolicy("* br0 1024\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const held = (await addMarkedPorts(ns, 300)).sort();
      for (const count of [20, 200]) {
        const outcomes = await requestsAtOnce(ns, count);
        try {
          expect(failures(outcomes)).toEqual([]);
          expect((await tapsOf(ns)).length).toBe(300 + count);
        } finally {
          closeAll(outcomes);
        }
        expect(await tapsOf(ns)).toEqual(held);
      }
    });
  }, 600_000);

  test("20 at once by one user under a limit of 3, five rounds, 100 ports of another user on the bridge: exactly 3 granted each time, the 17 others refused by the quota alone, nothing left", async () => {
    installed.setPolicy("alice br0 3\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const held = (await addMarkedPorts(ns, 100)).sort();
      for (let round = 0; round < 5; round += 1) {
        const outcomes = await requestsAtOnce(ns, 20);
        try {
          const granted = outcomes.filter((outcome) => outcome.fd !== null);
          expect(granted.map((outcome) => outcome.exitCode)).toEqual([0, 0, 0]);
          const refusals = outcomes.filter((outcome) => outcome.fd === null).map((outcome) => outcome.stderr);
          expect(refusals.length).toBe(17);
          for (const stderr of refusals) {
            expect(stderr).toMatch(
              /^tap-bridge-helper: access denied by policy file: rule "alice br0 3" at \S+:1 limits you to 3 on bridge br0: 3 in use \(tap[0-9]+, tap[0-9]+, tap[0-9]+\)\n/,
            );
          }
          expect((await tapsOf(ns)).length).toBe(100 + 3);
        } finally {
          closeAll(outcomes);
        }
        expect(await tapsOf(ns)).toEqual(held);
      }
    });
  }, 300_000);
});
