// The demo: a throw-away namespace with a bridge, the helper built against a temporary ACL, and a tiny
// QEMU guest attached through `-netdev bridge,helper=` that pings the bridge. Removes all it made.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "../shared/log.ts";
import { buildGuest, qemuCommand } from "./guest.ts";
import { runOk } from "./run.ts";

const log = createLogger("demo");
const root = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "tl-demo-"));
const netns = `tl-demo-${process.pid}`;
const cleanups: (() => Promise<unknown> | unknown)[] = [() => rmSync(work, { recursive: true, force: true })];

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (err) {
      log.warn(`clean-up: ${String(err)}`);
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    log.warn(`${signal}: cleaning up`);
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  const aclFile = join(work, "bridge.conf");
  writeFileSync(aclFile, "# demo ACL\nallow br0\n");
  log.start(`building tap-bridge-helper against the ACL ${aclFile}`);
  const dist = join(work, "dist");
  await runOk([process.execPath, "run", "build"], { cwd: root, env: { ...process.env, TAP_ACL_FILE: aclFile, TAP_OUT_DIR: dist } as Record<string, string> });

  log.start(`making network namespace ${netns} with bridge br0 at 10.99.0.1/24`);
  await runOk(["ip", "netns", "add", netns]);
  cleanups.push(() => runOk(["ip", "netns", "del", netns]));
  await runOk(["ip", "-n", netns, "link", "add", "br0", "type", "bridge"]);
  await runOk(["ip", "-n", netns, "addr", "add", "10.99.0.1/24", "dev", "br0"]);
  await runOk(["ip", "-n", netns, "link", "set", "br0", "up"]);

  log.start("packing a tiny guest (Debian kernel, busybox-static initramfs)");
  const guest = await buildGuest();
  cleanups.push(() => rmSync(guest.folder, { recursive: true, force: true }));

  log.start("booting it under QEMU with -netdev bridge,br=br0,helper=tap-bridge-helper (TCG, a few seconds)");
  const started = performance.now();
  const console = await runOk([
    "ip", "netns", "exec", netns, "timeout", "120",
    ...qemuCommand(guest, `bridge,id=n0,br=br0,helper=${join(dist, "tap-bridge-helper")}`, "10.99.0.2", "10.99.0.1"),
  ]);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const rtt = /min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(console);
  if (!console.includes("TL-PING-OK")) throw new Error(`the guest could not ping the bridge:\n${console}`);
  log.success(`the guest pinged 10.99.0.1 through the helper's TAP: round trip min/avg/max ${rtt?.slice(1).join("/") ?? "?"} ms (run took ${seconds} s)`);
  await cleanUp();
  log.success("removed the namespace, the build and the guest: nothing is left");
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  await cleanUp();
  process.exit(1);
}
