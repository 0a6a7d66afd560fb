// Issue 20 item 14: the helper's overall deadline. A name service that never answers (an /etc/group FIFO nobody writes) or a step that stalls ends in exit 1, naming what it waited for, with nothing left.
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd } from "../../shared/libc.ts";
import { ROOT, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { runOk } from "../support/proc.ts";

const DEADLINE_S = 2;
const folder = tempFolder("tl-deadline-");
writeFileSync(join(folder, "bridge.conf"), "allow br0\n");
writeFileSync(join(folder, "policy.conf"), "@lab br0 1\n* br0 4\n");
const dist = tempFolder("tl-dist-");
await runOk([process.execPath, "run", "build"], {
  cwd: ROOT,
  env: {
    ...process.env,
    TAP_ACL_FILE: join(folder, "bridge.conf"),
    TAP_POLICY_FILE: join(folder, "policy.conf"),
    TAP_OUT_DIR: dist,
    TAP_HELPER_DEADLINE_S: String(DEADLINE_S),
  } as Record<string, string>,
});
const helper = join(dist, "tap-bridge-helper");

test("/etc/group a FIFO nobody writes: exit 1 at the deadline, naming the name service, no TAP", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const started = Date.now();
    const outcome = await runHelper([...ns.prefix(), ...privateEtcPrefix({}, [], { fifos: ["group"] }), helper, "--fd=3", "--br=br0"]);
    const took = Date.now() - started;
    expect(outcome.stderr).toBe(
      `tap-bridge-helper: gave up after ${DEADLINE_S} s waiting for the name service to name your user and groups (getent passwd, getent group); no TAP is left behind\n`,
    );
    expect(outcome.exitCode).toBe(1);
    expect(outcome.fd).toBe(null);
    expect(took).toBeGreaterThanOrEqual(DEADLINE_S * 1000);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 30_000);

/** The position among the helper's ioctls (its main thread's, as strace's `when=` counts them) of the first `request`. */
async function ioctlPosition(prefix: string[], request: string): Promise<number> {
  const trace = join(tempFolder("tl-trace-"), "ioctl.trace");
  const traced = await runHelper([...prefix, "strace", "-qq", "-f", "-o", trace, "-e", "trace=ioctl", helper, "--fd=3", "--br=br0"]);
  for (const fd of traced.fds) closeFd(fd);
  const lines = readFileSync(trace, "utf8").trimEnd().split("\n");
  const main = lines[0]?.split(" ")[0];
  const position = lines.filter((line) => line.startsWith(`${main} `)).findIndex((line) => line.includes(`, ${request}, `)) + 1;
  if (position === 0) throw new Error(`no ${request} in ${trace}`);
  return position;
}

test("a step that stalls once the TAP exists (setting its MTU held past the deadline): exit 1, naming the step, and the TAP gone", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const position = await ioctlPosition(ns.prefix(), "SIOCSIFMTU");
    expect(await ns.tapNames()).toEqual([]);
    const stall = `inject=ioctl:delay_enter=${(DEADLINE_S + 3) * 1_000_000}:when=${position}`;
    const strace = ["strace", "-qq", "-f", "-o", "/dev/null", "-e", "trace=ioctl", "-e", stall];
    const outcome = await runHelper([...ns.prefix(), ...strace, helper, "--fd=3", "--br=br0"]);
    // strace's own complaint when a process ends inside a delay it injected is not the helper's.
    const helperLines = outcome.stderr.replace(/^strace: .*\n/gm, "");
    expect(helperLines).toBe(
      `tap-bridge-helper: gave up after ${DEADLINE_S} s waiting for the TAP to join the bridge; no TAP is left behind\n`,
    );
    expect(outcome.exitCode).toBe(1);
    expect(outcome.fd).toBe(null);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 30_000);
