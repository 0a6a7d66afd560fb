// The helper's refusals and failures: exit 1, a message saying what and why, and no TAP left behind.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";

const aclDir = tempFolder("tl-acl-");
const aclFile = join(aclDir, "bridge.conf");
writeFileSync(aclFile, "allow br0\nallow vx0\nallow nosuchbr\nallow brdeny\ndeny brdeny\n");
const helper = join(await buildWithAcl(aclFile), "tap-bridge-helper");

/**
 * What libvirt shows verbatim: `tap-bridge-helper: ` lines only, no colour, no blank line, no badge,
 * and no hint about a README the user does not have.
 */
function expectPlainLines(stderr: string): void {
  expect(stderr).not.toContain("\x1b");
  expect(stderr).toEndWith("\n");
  for (const line of stderr.slice(0, -1).split("\n")) expect(line).toMatch(/^tap-bridge-helper: \S/);
  expect(stderr).not.toContain("README");
}

/** Runs the helper in a namespace with bridges br0, brdeny, brother and a veth vx0. */
async function refused(args: string[], message: RegExp, options: { fd3?: number | "none" } = {}): Promise<string> {
  return withNetns(async (ns: TestNetns) => {
    for (const bridge of ["br0", "brdeny", "brother"]) await ns.addBridge(bridge);
    await ns.ip("link", "add", "vx0", "type", "veth", "peer", "name", "vx1");
    const outcome = await runHelper([...ns.prefix(), helper, ...args], options);
    expect(outcome.fd).toBeNull();
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(message);
    expectPlainLines(outcome.stderr);
    expect(await ns.tapNames()).toEqual([]);
    return outcome.stderr;
  });
}

describe("refused by the ACL", () => {
  test("no allow rule: names the bridge and the files read", async () => {
    const stderr = await refused(
      ["--use-vnet", "--fd=3", "--br=brother"],
      /access denied by acl file: no allow rule matches bridge brother/,
    );
    expect(stderr).toContain(aclFile);
  });
  test("a deny rule: names the rule, file and line", async () => {
    await refused(["--use-vnet", "--fd=3", "--br=brdeny"], new RegExp(`"deny brdeny" at ${aclFile}:5 matches bridge brdeny`));
  });
  test("an unreadable ACL file denies and says which file", async () => {
    const missing = join(tempFolder("tl-acl-"), "bridge.conf");
    const other = join(await buildWithAcl(missing), "tap-bridge-helper");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcome = await runHelper([...ns.prefix(), other, "--fd=3", "--br=br0"]);
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stderr).toContain(`cannot read ACL file ${missing}: ENOENT`);
      expect(await ns.tapNames()).toEqual([]);
    });
  });
});

describe("messages as libvirt and QEMU show them", () => {
  test("a denial: the reason, then a hint naming the ACL file and tap-launcher doctor", async () => {
    const stderr = await refused(["--use-vnet", "--fd=3", "--br=brother"], /./);
    expect(stderr).toBe(
      `tap-bridge-helper: access denied by acl file: no allow rule matches bridge brother in ${aclFile}; add "allow brother" to one of them\n` +
        `tap-bridge-helper: \`tap-launcher doctor\` shows which bridges ${aclFile} allows you; an administrator changes it\n`,
    );
  });
  test("an unknown bridge: the hint does not send a libvirt user to a --br they never typed", async () => {
    const stderr = await refused(["--use-vnet", "--fd=3", "--br=nosuchbr"], /./);
    expect(stderr).toBe(
      "tap-bridge-helper: failed to find bridge `nosuchbr': No such device (ENODEV)\n" +
        "tap-bridge-helper: create it first (ip link add nosuchbr type bridge), or name an existing bridge\n",
    );
  });
});

describe("failing steps", () => {
  test("unknown bridge", async () => {
    await refused(
      ["--use-vnet", "--fd=3", "--br=nosuchbr"],
      /failed to find bridge `nosuchbr': No such device \(ENODEV\)[\s\S]*ip link add nosuchbr type bridge/,
    );
  });
  test("a target that is not a bridge (the TAP made on the way is gone)", async () => {
    await refused(
      ["--use-vnet", "--fd=3", "--br=vx0"],
      /failed to add interface `tap0' to bridge `vx0': .*\(EOPNOTSUPP\)[\s\S]*is not a bridge/,
    );
  });
});

describe("the --fd socket", () => {
  test("closed fd", async () => {
    await refused(["--use-vnet", "--fd=9", "--br=br0"], /failed to use --fd=9: Bad file descriptor \(EBADF\)[\s\S]*not open/);
  });
  test("not a socket (a regular file)", async () => {
    const path = join(tempFolder("tl-file-"), "plain");
    writeFileSync(path, "");
    const fd = openSync(path, "r");
    try {
      await refused(["--use-vnet", "--fd=3", "--br=br0"], /failed to use --fd=3: .*\(ENOTSOCK\)[\s\S]*not a socket/, { fd3: fd });
    } finally {
      closeSync(fd);
    }
  });
  test("negative", async () => {
    await refused(
      ["--use-vnet", "--fd=-1", "--br=br0"],
      /--fd=-1 is not a file descriptor number\ntap-bridge-helper: usage: tap-bridge-helper \[--use-vnet\] \[--queues=N\] \[--mac=MAC\] --br=BRIDGE --fd=N\n$/,
    );
  });
  test("missing", async () => {
    await refused(
      ["--use-vnet", "--br=br0"],
      /missing --fd=N\ntap-bridge-helper: usage: tap-bridge-helper \[--use-vnet\] \[--queues=N\] \[--mac=MAC\] --br=BRIDGE --fd=N\n$/,
    );
  });
  test("standard input", async () => {
    await refused(["--use-vnet", "--fd=0", "--br=br0"], /--fd=0 is standard input/);
  });
});

describe("the command line", () => {
  for (const [label, args, message] of [
    [
      "unknown argument",
      ["--use-vnet", "--fd=3", "--br=br0", "--verbose"],
      /unknown argument "--verbose"\ntap-bridge-helper: usage: tap-bridge-helper \[--use-vnet\] \[--queues=N\] \[--mac=MAC\] --br=BRIDGE --fd=N\n$/,
    ],
    ["--br given twice", ["--fd=3", "--br=brother", "--br=br0"], /--br given more than once/],
    ["missing --br", ["--use-vnet", "--fd=3"], /missing --br=BRIDGE/],
    ["a space-separated value", ["--fd=3", "--br", "br0"], /unknown argument "--br"/],
    ["a bridge name of 16 bytes", ["--fd=3", "--br=br0123456789abcd"], /invalid bridge name "br0123456789abcd": it is 16 bytes long/],
    ["a bridge name with a slash", ["--fd=3", "--br=br/0"], /invalid bridge name "br\/0"/],
    ["an empty bridge name", ["--fd=3", "--br="], /invalid bridge name "": it is empty/],
    ["--help with other arguments", ["--help", "--fd=3", "--br=br0"], /unknown argument "--help"/],
  ] as const) {
    test(label, async () => {
      await refused([...args], message);
    });
  }
});

describe("a full bridge", () => {
  test("1023 ports already (veth devices): says the bridge has no free port, not just EXFULL, and leaves no TAP", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const batch = join(tempFolder("tl-ports-"), "ports.batch");
      const lines = Array.from({ length: 1023 }, (_, i) => `link add p${i} master br0 type veth peer name q${i}`);
      writeFileSync(batch, `${lines.join("\n")}\n`);
      await ns.ip("-batch", batch);
      const outcome = await runHelper([...ns.prefix(), helper, "--fd=3", "--br=br0"]);
      expect(outcome.stderr).toMatch(
        /^tap-bridge-helper: failed to add interface `tap0' to bridge `br0': the bridge has no free port \(it has the 1023 a Linux bridge can have\)\ntap-bridge-helper: an administrator removes a port/,
      );
      expect(outcome.exitCode).toBe(1);
      expect(outcome.fd).toBeNull();
      expectPlainLines(outcome.stderr);
      expect(await ns.tapNames()).toEqual([]);
    });
  }, 120_000);
});
