// The demo: build, install the helper into a temporary prefix with a temporary ACL, make a throw-away
// network namespace with a bridge, and run tap-launcher as a throw-away unprivileged user with the
// project's guest (scripts/demo-guest.ts), through the stream relay and in hand-over mode. Reports
// ARP time, round trips and echo throughput; removes everything it made, also on Ctrl-C or failure.
// Run as root. The host's own network is never touched.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ConsolaInstance } from "consola";
import { createLogger } from "../shared/log.ts";
import { runOk } from "../tests/support/proc.ts";
import { withOpenTunDevice } from "../tests/support/users.ts";

const log = createLogger("demo");
const root = resolve(import.meta.dir, "..");
const id = `${process.pid}`;
const netns = `tl-demo-${id}`;
const user = `tl-demo-${id}`;
const cleanups: { what: string; undo: () => Promise<unknown> | unknown }[] = [];
let cleaning: Promise<void> | null = null;

/** Undoes everything made so far, newest first; safe to call more than once. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const { what, undo } of cleanups.splice(0).reverse()) {
      try {
        await undo();
        log.debug(`removed ${what}`);
      } catch (err) {
        log.warn(`could not remove ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    log.warn(`${signal}: removing what the demo made`);
    void cleanUp().then(() => process.exit(130));
  });
}

/** Runs `step` with a spinner on a terminal (a plain start line otherwise), then a success line. */
async function slow<T>(logger: ConsolaInstance, text: string, step: () => Promise<T>): Promise<T> {
  if (process.stderr.isTTY !== true) {
    logger.start(text);
    return step();
  }
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let frame = 0;
  const timer = setInterval(() => process.stderr.write(`\r${frames[frame++ % frames.length]} ${text}`), 80);
  try {
    return await step();
  } finally {
    clearInterval(timer);
    process.stderr.write("\r\u001b[2K");
    logger.success(text);
  }
}

interface GuestReport {
  arpMs: number;
  roundTripsMs: number[];
  echoMbitPerSecond: number;
}

function summary(report: GuestReport): string {
  const rtt = report.roundTripsMs;
  const average = rtt.reduce((sum, ms) => sum + ms, 0) / rtt.length;
  return `ARP ${report.arpMs} ms; ping ${rtt.length}/5, rtt min/avg/max ${Math.min(...rtt).toFixed(3)}/${average.toFixed(3)}/${Math.max(...rtt).toFixed(3)} ms; echo throughput ${report.echoMbitPerSecond} Mbit/s`;
}

try {
  const work = mkdtempSync(join(tmpdir(), "tl-demo-"));
  cleanups.push({ what: work, undo: () => rmSync(work, { recursive: true, force: true }) });
  chmodSync(work, 0o755); // the demo user must reach the installed programs
  const aclFile = join(work, "bridge.conf");
  writeFileSync(aclFile, "# the demo's ACL: only br0\nallow br0\n", { mode: 0o644 });
  const dist = join(work, "dist");
  const env = { ...process.env, TAP_ACL_FILE: aclFile, TAP_OUT_DIR: dist } as Record<string, string>;

  await slow(log, `building tap-bridge-helper and tap-launcher against the ACL ${aclFile}`, async () => {
    await runOk([process.execPath, "run", "build"], { cwd: root, env });
    await runOk([process.execPath, "build", "--compile", join(root, "scripts/demo-guest.ts"), `--outfile=${join(dist, "demo-guest")}`], {
      cwd: root,
    });
  });

  await runOk(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", user]);
  cleanups.push({ what: `user ${user}`, undo: () => runOk(["userdel", user]) });
  const uid = (await runOk(["id", "-u", user])).trim();
  const gid = (await runOk(["id", "-g", user])).trim();
  log.success(`made the throw-away user ${user} (uid ${uid})`);

  const prefix = join(work, "prefix");
  await runOk([join(dist, "tap-launcher"), "install", `--prefix=${prefix}`, "--mode=setuid", `--from=${dist}`]);
  cleanups.push({
    what: `the installation in ${prefix}`,
    undo: () => runOk([join(dist, "tap-launcher"), "uninstall", `--prefix=${prefix}`]),
  });
  log.success(`installed into ${prefix}: the exec shim setuid root, the Bun helper unprivileged`);

  await runOk(["ip", "netns", "add", netns]);
  cleanups.push({ what: `network namespace ${netns}`, undo: () => runOk(["ip", "netns", "del", netns]) });
  await runOk(["ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
  await runOk(["ip", "-n", netns, "link", "add", "br0", "type", "bridge"]);
  await runOk(["ip", "-n", netns, "addr", "add", "10.99.0.1/24", "dev", "br0"]);
  await runOk(["ip", "-n", netns, "link", "set", "br0", "up"]);
  log.success(`made network namespace ${netns} with bridge br0 at 10.99.0.1/24`);

  // A standard Debian makes /dev/net/tun 0666; where it is not, use a private 0666 node for this run.
  const tunOpen = (statSync("/dev/net/tun").mode & 0o006) === 0o006;
  const privateTun = tunOpen ? [] : withOpenTunDevice(join(work, "tun"));
  if (!tunOpen) {
    log.info("/dev/net/tun is not open to users here (Debian's udev makes it 0666): the runs use a private 0666 node");
  }
  const asUser = ["ip", "netns", "exec", netns, ...privateTun, "setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups"];
  const launcher = join(prefix, "bin", "tap-launcher");
  const guest = join(dist, "demo-guest");

  const relay = await slow(
    log,
    `as ${user}: tap-launcher --br=br0 --relay=stream -- demo-guest (ARP, ping, echo flood)`,
    async () =>
      JSON.parse(
        await runOk([...asUser, launcher, "--quiet", "--br=br0", "--relay=stream", "--", guest, "stream", "10.99.0.2", "10.99.0.1"]),
      ) as GuestReport,
  );
  log.success(`stream relay: ${summary(relay)}`);

  const handOver = await slow(
    log,
    `as ${user}: tap-launcher --br=br0 -- demo-guest (the TAP itself as fd 3)`,
    async () =>
      JSON.parse(await runOk([...asUser, launcher, "--quiet", "--br=br0", "--", guest, "tap", "10.99.0.3", "10.99.0.1"])) as GuestReport,
  );
  log.success(`hand-over: ${summary(handOver)}`);

  await cleanUp();
  log.success("removed the namespace, the user, the installation and the build: nothing is left");
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  await cleanUp();
  process.exit(1);
}
