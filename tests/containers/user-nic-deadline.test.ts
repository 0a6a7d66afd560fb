// tap-user-nic's overall deadline, the TAP helper's: a name service that never answers (an /etc/passwd FIFO nobody writes) ends in exit 1, naming what it waited for, with nothing printed or made.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, tempFolder } from "../support/build.ts";
import { withNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { run, runOk } from "../support/proc.ts";
import { vethNames } from "../support/user-nic.ts";

const DEADLINE_S = 2;
const dist = tempFolder("tl-dist-");
await runOk([process.execPath, "run", "build"], {
  cwd: ROOT,
  env: { ...process.env, TAP_OUT_DIR: dist, TAP_HELPER_DEADLINE_S: String(DEADLINE_S) } as Record<string, string>,
});
const userNic = join(dist, "tap-user-nic");

test("/etc/passwd a FIFO nobody writes: create exits 1 at the deadline, naming the name service, printing nothing, making no veth", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const container = Bun.spawn({ cmd: [...ns.prefix(), "unshare", "-n", "sleep", "60"], stdout: "ignore", stderr: "ignore" });
    try {
      const started = Date.now();
      const args = ["create", "/tmp", "c1", String(container.pid), "veth", "br0", "eth0"];
      const outcome = await run([...ns.prefix(), ...privateEtcPrefix({}, [], { fifos: ["passwd"] }), userNic, ...args]);
      const took = Date.now() - started;
      expect({ stderr: outcome.stderr, exit: outcome.exitCode, stdout: outcome.stdout }).toEqual({
        stderr: `tap-user-nic: gave up after ${DEADLINE_S} s waiting for the name service to name your user and groups (getent passwd, getent group); no line was printed, and a veth already made stays counted against you until its container goes\n`,
        exit: 1,
        stdout: "",
      });
      expect(took).toBeGreaterThanOrEqual(DEADLINE_S * 1000);
      expect(await vethNames(ns)).toEqual([]);
    } finally {
      container.kill("SIGKILL");
      await container.exited;
    }
  });
}, 60_000);
