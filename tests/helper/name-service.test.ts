// A name service that fails under a policy file: every way a lookup can fail refuses, whatever the NSS modules; one that never answers ends in time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeFd } from "../../shared/libc.ts";
import { testAccounts } from "../support/accounts.ts";
import { runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { privateDevPrefix } from "../support/syslog-sink.ts";
import { ALICE, asUser } from "../support/users.ts";

let installed: TestInstall;
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
});
afterAll(() => installed.uninstall());

/** Debian's order: the files, then systemd's dynamic users (which answers "no such group" for any other gid). */
const DEBIAN_NSS = "passwd: files systemd\ngroup: files systemd\n";

function requestAsAlice(ns: TestNetns, etc: string[]) {
  return runHelper([...ns.prefix(), ...etc, ...privateDevPrefix(null), ...asUser(ALICE), installed.shim, "--fd=3", "--br=br0"]);
}

test("/etc/group unreadable (mode 0600) with `group: files systemd`: alice's @lab line is not skipped for the * line, she is refused", async () => {
  installed.setPolicy("@lab br0 1 isolated\n* br0 8\n");
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const files = { ...testAccounts(), "nsswitch.conf": DEBIAN_NSS };
    // The control: with a readable /etc/group the @lab line holds (an isolated port).
    const readable = await requestAsAlice(ns, privateEtcPrefix(files));
    try {
      expect(readable.exitCode).toBe(0);
      const [tap] = await ns.tapNames();
      expect((await ns.exec("cat", `/sys/class/net/${tap}/brport/isolated`)).trim()).toBe("1");
    } finally {
      if (readable.fd !== null) closeFd(readable.fd);
    }
    const unreadable = await requestAsAlice(ns, privateEtcPrefix(files, [], { modes: { group: 0o600 } }));
    if (unreadable.fd !== null) closeFd(unreadable.fd);
    expect(unreadable.stderr).toBe(
      `tap-bridge-helper: access denied by policy file: the name service gave no name for gid ${ALICE.gid}, gid ${ALICE.groups[0]}, so which line applies to you on bridge br0 cannot be told\n` +
        "tap-bridge-helper: the policy matches user and group names: an administrator makes the name service answer for them (getent passwd UID, getent group GID)\n",
    );
    expect(unreadable.exitCode).toBe(1);
    expect(unreadable.fd).toBe(null);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 60_000);

test("/etc/passwd unreadable with a line for alice herself: refused, not given the * line", async () => {
  installed.setPolicy("alice br0 0\n* br0 8\n");
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const files = { ...testAccounts(), "nsswitch.conf": DEBIAN_NSS };
    const outcome = await requestAsAlice(ns, privateEtcPrefix(files, [], { modes: { passwd: 0o600 } }));
    if (outcome.fd !== null) closeFd(outcome.fd);
    expect(outcome.stderr).toContain(`the name service gave no name for uid ${ALICE.uid}, so which line applies`);
    expect(outcome.exitCode).toBe(1);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 60_000);
