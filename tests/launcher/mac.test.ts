// The launcher's --mac: checked before anything runs, passed to the helper as --mac=MAC after QEMU's arguments, refused with --unmanaged.
import { expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { helperCommand } from "../../launcher/bridge-helper.ts";
import { ROOT, tempFolder } from "../support/build.ts";
import { run } from "../support/proc.ts";

/** The launcher from source in a network namespace of its own, so that nothing it might do reaches the host's. */
function launch(args: string[]) {
  return run(["unshare", "-n", process.execPath, join(ROOT, "launcher/main.ts"), ...args]);
}

test("helperCommand puts --mac after QEMU's arguments, also in the shell form", () => {
  expect(helperCommand("/usr/libexec/h", "br7", { mac: "52:54:00:12:34:56" })).toEqual([
    "/usr/libexec/h",
    "--use-vnet",
    "--fd=3",
    "--br=br7",
    "--mac=52:54:00:12:34:56",
  ]);
  expect(helperCommand("/usr/libexec/h -x", "br7", { queues: 2, mac: "52:54:00:12:34:56" })).toEqual([
    "/bin/sh",
    "-c",
    "/usr/libexec/h -x --use-vnet --fd=3 --br=br7 --queues=2 --mac=52:54:00:12:34:56",
  ]);
});

test("--mac reaches the helper as typed (lower case); a malformed or group MAC, or --mac with --unmanaged, is a usage error and runs nothing", async () => {
  const folder = tempFolder("tl-mac-");
  const helper = join(folder, "helper");
  const helperRan = join(folder, "helper-ran");
  writeFileSync(helper, `#!/bin/sh\necho "$@" >> ${helperRan}\nexit 1\n`);
  chmodSync(helper, 0o755);

  const passed = await launch([`--helper=${helper}`, "--mac=52:54:00:AB:cd:0f", "--", "true"]);
  expect(passed.exitCode).toBe(1);
  expect(readFileSync(helperRan, "utf8")).toBe("--use-vnet --fd=3 --br=br0 --mac=52:54:00:ab:cd:0f\n");

  for (const [args, message] of [
    [
      [`--helper=${helper}`, "--mac=52:54:00:ab:cd"],
      "tap-launcher: --mac=52:54:00:ab:cd is not a guest's MAC address: it is not six hex bytes joined by colons",
    ],
    [
      [`--helper=${helper}`, "--mac=01:00:5e:00:00:01"],
      "tap-launcher: --mac=01:00:5e:00:00:01 is not a guest's MAC address: it is a multicast (group) address",
    ],
    [
      ["--unmanaged", "--tap=tap9", "--mac=52:54:00:12:34:56"],
      "tap-launcher: --mac chooses what the bridge helper makes, so it does nothing with --unmanaged: give one or the other",
    ],
  ] as const) {
    const refused = await launch([...args, "--", "true"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.split("\n")[0]).toBe(message);
  }
  expect(readFileSync(helperRan, "utf8").split("\n").length).toBe(2);
});
