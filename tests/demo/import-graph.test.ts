// Which program's code reaches which: the import graphs the bundler builds, checked against the layout's rules.
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { importGraph } from "../../scripts/audit-lines.ts";
import { ROOT } from "./messages.ts";

const own = (files: string[]) => files.filter((file) => !file.includes("node_modules/"));

test("the launcher (its workers and lazy commands included) takes nothing from helper/, the shim's source included", async () => {
  const files = own(await importGraph(["launcher/main.ts", "launcher/datapath/worker.ts"]));
  expect(files).toContain("launcher/doctor.ts"); // the lazily loaded commands are in the graph
  expect(files).toContain("policy/verdicts.ts");
  expect(files.filter((file) => file.startsWith("helper/"))).toEqual([]);
});

test("acl/ (bridge.conf) takes nothing from policy/, helper/ or launcher/", async () => {
  const modules = readdirSync(join(ROOT, "acl")).map((file) => `acl/${file}`);
  const files = own(await importGraph(modules));
  expect(files.filter((file) => !file.startsWith("acl/") && !file.startsWith("shared/"))).toEqual([]);
});

// load.ts reads the policy file, through the one reader of configuration files (shared/config-file.ts,
// which calls libc: the helper evaluates no node:fs); the rest of policy/ decides, and reaches no FFI.
test("policy/ is pure: it reaches no FFI module, nor helper/ or launcher/, but for load.ts's file reader", async () => {
  const modules = readdirSync(join(ROOT, "policy")).map((file) => `policy/${file}`);
  const reader = own(await importGraph(["shared/config-file.ts"]));
  const files = own(await importGraph(modules)).filter((file) => !reader.includes(file));
  const ffi = ["shared/libc.ts", "shared/netlink.ts", "shared/netdev.ts", "shared/tap.ts", "shared/fdpass.ts"];
  expect(files.filter((file) => file.startsWith("helper/") || file.startsWith("launcher/") || ffi.includes(file))).toEqual([]);
  const decisions = own(await importGraph(modules.filter((file) => file !== "policy/load.ts")));
  expect(decisions.filter((file) => file === "shared/config-file.ts" || ffi.includes(file))).toEqual([]);
});
