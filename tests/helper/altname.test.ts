// The ACL decides on the bridge device, whichever of its names (canonical or alternative) the caller types.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd } from "../../shared/libc.ts";
import { tapInfo } from "../../shared/tap-info.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";

/** A helper built against an ACL with `content`, and the ACL's path. */
async function helperWithAcl(content: string): Promise<{ helper: string; aclFile: string }> {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, content);
  return { helper: join(await buildWithAcl(aclFile), "tap-bridge-helper"), aclFile };
}

/** Bridges br1 (alternative names lab1, lab2) and br2 in a fresh namespace. */
async function withAltnames(body: (ns: TestNetns) => Promise<void>): Promise<void> {
  await withNetns(async (ns) => {
    await ns.addBridge("br1");
    await ns.addBridge("br2");
    await ns.ip("link", "property", "add", "dev", "br1", "altname", "lab1", "altname", "lab2");
    await body(ns);
  });
}

const denyBr1 = await helperWithAcl("deny br1\nallow all\n");
const denyLab2 = await helperWithAcl("allow all\ndeny lab2\n");
const allowBr1 = await helperWithAcl("allow br1\n");
const allowLab1 = await helperWithAcl("allow lab1\n");

describe("a deny rule holds for every name of the device", () => {
  test("deny br1, allow all: --br=lab1 is refused, naming the device, and no TAP is made", async () => {
    await withAltnames(async (ns) => {
      const outcome = await runHelper([...ns.prefix(), denyBr1.helper, "--use-vnet", "--fd=3", "--br=lab1"]);
      expect(outcome.fd).toBeNull();
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stderr).toStartWith(
        `tap-bridge-helper: access denied by acl file: rule "deny br1" at ${denyBr1.aclFile}:1 matches bridge lab1 (the device br1, also named lab1, lab2) (deny wins over allow)\n`,
      );
      expect(await ns.tapNames()).toEqual([]);
    });
  });

  test("deny lab2 (an alternative name): --br=br1 and --br=lab1 are refused, br2 is not", async () => {
    await withAltnames(async (ns) => {
      for (const name of ["br1", "lab1", "lab2"]) {
        const outcome = await runHelper([...ns.prefix(), denyLab2.helper, "--use-vnet", "--fd=3", `--br=${name}`]);
        expect(outcome.fd).toBeNull();
        expect(outcome.stderr).toContain(`rule "deny lab2" at ${denyLab2.aclFile}:2 matches bridge ${name}`);
      }
      const other = await runHelper([...ns.prefix(), denyLab2.helper, "--use-vnet", "--fd=3", "--br=br2"]);
      expect(other.exitCode).toBe(0);
      if (other.fd !== null) closeFd(other.fd);
    });
  });
});

describe("an allow rule allows the device by any of its names", () => {
  for (const [acl, rule] of [
    [allowBr1, "allow br1"],
    [allowLab1, "allow lab1"],
  ] as const) {
    test(`${rule}: --br=lab2 gets a TAP on br1, and br2 stays denied`, async () => {
      await withAltnames(async (ns) => {
        const outcome = await runHelper([...ns.prefix(), acl.helper, "--use-vnet", "--fd=3", "--br=lab2"]);
        expect(outcome.stderr).toBe("");
        expect(outcome.exitCode).toBe(0);
        expect(outcome.fd).not.toBeNull();
        try {
          const tap = tapInfo(outcome.fd ?? -1);
          expect((await ns.link(tap.name)).master).toBe("br1");
        } finally {
          if (outcome.fd !== null) closeFd(outcome.fd);
        }
        const denied = await runHelper([...ns.prefix(), acl.helper, "--use-vnet", "--fd=3", "--br=br2"]);
        expect(denied.exitCode).toBe(1);
        expect(denied.stderr).toContain("no allow rule matches bridge br2");
      });
    });
  }
});

test("an ASCII altname of a device whose own name is not ASCII: a one-line refusal, no stack trace, no TAP", async () => {
  const allowAll = await helperWithAcl("allow all\n");
  await withNetns(async (ns) => {
    await ns.ip("link", "add", "br\u00fc", "type", "bridge");
    await ns.ip("link", "property", "add", "dev", "br\u00fc", "altname", "labu");
    const outcome = await runHelper([...ns.prefix(), allowAll.helper, "--use-vnet", "--fd=3", "--br=labu"]);
    expect(outcome.fd).toBeNull();
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toBe(
      "tap-bridge-helper: failed to find bridge `labu': the device's name \"br\u00c3\u00bc\" is not one the helper handles (only printable ASCII without blanks is accepted)\n" +
        "tap-bridge-helper: an administrator renames it (ip link set dev labu name NEWNAME) to printable ASCII\n",
    );
    expect(await ns.tapNames()).toEqual([]);
  });
});
