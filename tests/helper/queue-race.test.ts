// Issue 20 item 1: a local user who attaches queues to tap0..tap3 in a loop cannot make others' multiqueue requests fail.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { closeFd } from "../../shared/libc.ts";
import { tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { runOk } from "../support/proc.ts";
import { ALICE, asUser, BOB, withOpenTunDevice } from "../support/users.ts";

let installed: TestInstall;
const racer = join(tempFolder("tl-racer-"), "name-racer");
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
  installed.setPolicy("* br0 4 queues=2\n"); // several queues only where a line allows them
  await runOk(["cc", "-O2", "-Wall", "-Werror", "-o", racer, join(import.meta.dir, "../support/name-racer.c")]);
});
afterAll(() => installed.uninstall());

const REQUESTS = 30;

test(`with bob racing for tap0..tap3 the whole time, all ${REQUESTS} of alice's --queues=2 requests get a 2-queue TAP`, async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const tun = withOpenTunDevice();
    const raced = Bun.spawn({
      cmd: [...ns.prefix(), ...tun, ...asUser(BOB), racer, "tap0", "tap1", "tap2", "tap3"],
      stdout: "pipe",
      stderr: "inherit",
    });
    const lines = raced.stdout.pipeThrough(new TextDecoderStream()).getReader();
    expect((await lines.read()).value).toBe("ready\n");
    const failures: string[] = [];
    try {
      for (let i = 0; i < REQUESTS; i += 1) {
        const outcome = await runHelper([
          ...ns.prefix(),
          ...tun,
          ...asUser(ALICE),
          installed.shim,
          "--use-vnet",
          "--queues=2",
          "--fd=3",
          "--br=br0",
        ]);
        try {
          if (outcome.exitCode !== 0 || outcome.fds.length !== 2) failures.push(outcome.stderr.trim());
          else {
            const [tap = ""] = await ns.tapNames();
            expect(tap).toMatch(/^tap[0-9]$/);
            const link = await ns.link(tap);
            expect(link.linkinfo?.info_data).toMatchObject({ user: ALICE.uid, group: ALICE.gid, numqueues: 2 });
          }
        } finally {
          for (const fd of outcome.fds) closeFd(fd);
        }
      }
      // The racer ran for the whole test, and it did try.
      expect(raced.exitCode).toBe(null);
    } finally {
      raced.kill("SIGTERM");
      await raced.exited;
    }
    const summary = (await lines.read()).value ?? "";
    console.log(`racer: ${summary.trim()}`);
    expect(summary).toMatch(/^attempts [1-9][0-9]* attached [0-9]+\n$/);
    expect(failures).toEqual([]);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 180_000);
