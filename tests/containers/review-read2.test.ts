// Review of the second read (1bab833..2cfdbf4): tap-user-nic reads its policy file once now; one it cannot parse still refuses create, audited, and leaves no veth.
import { expect, setDefaultTimeout, test } from "bun:test";
import { withNetns } from "../support/netns.ts";
import { SyslogSink } from "../support/syslog-sink.ts";
import { ALICE } from "../support/users.ts";
import { logTo, userNicPrograms, vethNames, withUserNicWorld } from "../support/user-nic.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours, installed } = await userNicPrograms();

test("a policy file that cannot be parsed refuses create with the helper's message, audited with the caller's name, and makes no veth", async () => {
  installed.setPolicy("alice br0 1\nalice br0 nonsense\n");
  try {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await withUserNicWorld(ns, async (world) => {
        const sink = new SyslogSink();
        try {
          world.setUsernet("alice veth br0 5\n");
          logTo(world, sink);
          const container = await world.container(ALICE);
          const refused = await world.call(ours, ALICE, ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"]);
          expect(refused.exitCode).toBe(1);
          expect(refused.stdout).toBe("");
          expect(refused.stderr).toContain(`access denied: policy syntax error at ${installed.policyFile}:2: invalid MAX "nonsense"`);
          expect(await vethNames(ns)).toHaveLength(0);
          const lines = sink.lines();
          expect(lines).toHaveLength(1);
          expect(lines[0]).toContain(
            `refuse kind=veth verb=create user=alice uid=4101 bridge=br0 veth=- target=pid:${container.pid} usernet=- rule=-`,
          );
          expect(lines[0]).toContain('reason="access denied: policy syntax error at');
        } finally {
          sink.close();
        }
      });
    });
  } finally {
    installed.setPolicy(null);
  }
});
