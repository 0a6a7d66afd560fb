// tap-user-nic's audit line: every field a caller can choose is quoted when it could be read as more than its value.
import { expect, test } from "bun:test";
import { VETH_AUDIT, type VethAuditRecord } from "../../../../helper/user-nic/audit.ts";

const record = (veth: string | null): VethAuditRecord => ({
  verb: "delete",
  userName: "alice",
  uid: 4101,
  bridge: "br0",
  rule: undefined,
  veth,
  target: "/proc/4242/ns/net",
  usernetLine: null,
});

test("a veth name as delete takes it from the caller is quoted when it holds a quote, = or a backslash; a plain one is bare", () => {
  expect(VETH_AUDIT.message("refuse", record('eth0" uid=0'), "no")).toContain(' veth="eth0\\" uid=0" ');
  expect(VETH_AUDIT.message("refuse", record("a=b"), "no")).toContain(' veth="a=b" ');
  expect(VETH_AUDIT.message("refuse", record("a\\b"), "no")).toContain(' veth="a\\\\b" ');
  expect(VETH_AUDIT.message("grant", record("veth000035xQk3b"))).toContain(" veth=veth000035xQk3b ");
  expect(VETH_AUDIT.message("refuse", record(null), "no")).toContain(" veth=- ");
  expect(VETH_AUDIT.message("refuse", record("-"), "no")).toContain(' veth="-" '); // a name, not "none"
});
