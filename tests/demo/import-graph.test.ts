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

test("policy/ is pure: it reaches no FFI module, nor helper/ or launcher/", async () => {
  const modules = readdirSync(join(ROOT, "policy")).map((file) => `policy/${file}`);
  const files = own(await importGraph(modules));
  const ffi = ["shared/libc.ts", "shared/netlink.ts", "shared/netdev.ts", "shared/tap.ts", "shared/fdpass.ts"];
  expect(files.filter((file) => file.startsWith("helper/") || file.startsWith("launcher/") || ffi.includes(file))).toEqual([]);
});
