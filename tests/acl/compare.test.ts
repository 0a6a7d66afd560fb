// Our helper and Debian's qemu-bridge-helper decide alike on every ACL file of the table.
//
// Both read /etc/qemu/bridge.conf, shown to them through a private read-only overlay of /etc, inside a
// namespace where every bridge asked about exists: "allowed" means the helper really sent a TAP fd.
// Every case runs both helpers and classifies both outcomes, so a missing original fails every case,
// naming what happened; no test checks the fixture itself (that the original exists, how long the table is).
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd } from "../../shared/libc.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { ACL_CASES, BRIDGES, type AclCase, type Bridge } from "./table.ts";

const ORIGINAL = "/usr/lib/qemu/qemu-bridge-helper";
const ours = join(await buildWithAcl("/etc/qemu/bridge.conf"), "tap-bridge-helper");

type Decision = "allow" | "deny";

/** Runs one helper on one bridge and classifies the outcome; anything unclassifiable fails the test. */
async function decision(ns: TestNetns, etc: string[], helper: string, bridge: Bridge): Promise<Decision> {
  // The original follows an include loop until fopen() fails: give it Debian's usual 1024 fds so
  // that happens before its stack runs out.
  const limit = helper === ORIGINAL ? ["prlimit", "--nofile=1024"] : [];
  const outcome = await runHelper([...ns.prefix(), ...etc, ...limit, helper, "--use-vnet", "--fd=3", `--br=${bridge}`]);
  if (outcome.fd !== null) closeFd(outcome.fd);
  if (outcome.exitCode === 0 && outcome.fd !== null) return "allow";
  if (outcome.exitCode === 1 && /access denied|failed to parse default acl file/.test(outcome.stderr)) return "deny";
  throw new Error(`${helper} on ${bridge}: exit ${outcome.exitCode}, no decision in: ${outcome.stderr}`);
}

function layOut(aclCase: AclCase): string[] {
  const dir = tempFolder("tl-aclcase-");
  const fill = (text: string | Uint8Array) => (typeof text === "string" ? text.replaceAll("@DIR@", dir) : text);
  for (const [name, content] of Object.entries(aclCase.files ?? {})) {
    if (name.endsWith("/")) mkdirSync(join(dir, name));
    else writeFileSync(join(dir, name), fill(content));
  }
  return privateEtcPrefix({ "qemu/bridge.conf": fill(aclCase.main) });
}

describe("ACL decisions match qemu-bridge-helper", () => {
  for (const aclCase of ACL_CASES) {
    test(aclCase.name, async () => {
      const etc = layOut(aclCase);
      await withNetns(async (ns) => {
        for (const bridge of BRIDGES) await ns.addBridge(bridge);
        for (const bridge of BRIDGES) {
          const expected: Decision = aclCase.allows.includes(bridge) ? "allow" : "deny";
          const original: Decision = (aclCase.originalAllows ?? aclCase.allows).includes(bridge) ? "allow" : "deny";
          expect({ bridge, ours: await decision(ns, etc, ours, bridge) }).toEqual({ bridge, ours: expected });
          expect({ bridge, original: await decision(ns, etc, ORIGINAL, bridge) }).toEqual({ bridge, original });
        }
        expect(await ns.tapNames()).toEqual([]);
      });
    });
  }
});
