// The helper under hostile limits: a caller that never reads, and every fd limit, end in a clear failure.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { receiveFd } from "../../shared/fd-receive.ts";
import { SysError } from "../../shared/errors.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { F_GETFL, F_SETFL, O_NONBLOCK, SOCK_NONBLOCK, SOCK_STREAM } from "../../shared/kernel-launcher.ts";
import { closeFd, writeOrErrno } from "../../shared/libc.ts";
import { fcntl, openSocketPair } from "../../shared/libc-launcher.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns } from "../support/netns.ts";

const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
writeFileSync(aclFile, "allow br0\n");
const helper = join(await buildWithAcl(aclFile), "tap-bridge-helper");

test("a caller whose socket is full and who never reads: the helper gives up after 5 s, and no TAP is left", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    try {
      // Fill the helper's direction before it starts: its sendmsg finds no room.
      const filler = new Uint8Array(65536);
      while (writeOrErrno(theirs, filler) > 0);
      // A blocking socket, as QEMU and libvirt pass it: a plain sendmsg would wait forever.
      fcntl(theirs, F_SETFL, "F_SETFL", fcntl(theirs, F_GETFL, "F_GETFL") & ~O_NONBLOCK);
      const started = performance.now();
      const child = Bun.spawn({
        cmd: [...ns.prefix(), helper, "--use-vnet", "--fd=3", "--br=br0"],
        stdio: ["ignore", "ignore", "pipe", theirs],
      });
      const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      const seconds = (performance.now() - started) / 1000;
      expect(exitCode).toBe(1);
      expect(stderr).toBe(
        "tap-bridge-helper: failed to write fd to unix socket --fd=3: the receiver read nothing for 5 s and the socket is full (ETIMEDOUT)\n" +
          "tap-bridge-helper: the program that ran the helper must read the fd at once, as QEMU and libvirt do\n",
      );
      console.log(`helper gave up after ${seconds.toFixed(1)} s`);
      expect(await ns.tapNames()).toEqual([]);
      // What is in the socket is the filler only: no fd was sent.
      let fdsReceived = 0;
      for (;;) {
        try {
          const got = receiveFd(ours);
          if (got.bytes === 0) break;
          if (got.fd !== null) {
            fdsReceived += 1;
            closeFd(got.fd);
          }
        } catch (err) {
          // EAGAIN: drained. Anything else (EBADF) would leave fdsReceived at 0 without having read a thing.
          if (err instanceof SysError && err.code === "EAGAIN") break;
          throw err;
        }
      }
      expect(fdsReceived).toBe(0);
    } finally {
      closeFd(ours);
      closeFd(theirs);
    }
  });
}, 30_000);

test("at every fd limit the helper either sends the TAP or names the real errno (EMFILE, never a made-up ENOENT)", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const outcomes: string[] = [];
    for (let limit = 5; limit <= 16; limit += 1) {
      const outcome = await runHelper([
        ...ns.prefix(),
        "prlimit",
        `--nofile=${limit}:${limit}`,
        helper,
        "--use-vnet",
        "--fd=3",
        "--br=br0",
      ]);
      if (outcome.fd !== null) closeFd(outcome.fd);
      outcomes.push(`${limit}: exit ${outcome.exitCode}${outcome.fd === null ? "" : " fd"} ${outcome.stderr.split("\n")[0]}`);
      expect(outcome.exitCode === 0).toBe(outcome.fd !== null);
      expect(outcome.stderr).not.toMatch(/ENOENT|No such file/);
      // Below a few fds Bun itself cannot start, and says so in its own words.
      if (outcome.exitCode !== 0) expect(outcome.stderr).toMatch(/EMFILE|Too many open files|ran out of file descriptors/);
    }
    console.log(outcomes.join("\n"));
    // Both kinds happen across the range: the limit really bit somewhere, and enough fds do work.
    expect(outcomes.some((line) => line.includes("find bridge `br0': Too many open files (EMFILE)"))).toBe(true);
    expect(outcomes.some((line) => line.includes("exit 0 fd"))).toBe(true);
    expect(await ns.tapNames()).toEqual([]);
  });
}, 60_000);

test("a small stack limit (RLIMIT_STACK, the caller's) and a 43 KB ACL: the helper reads it and sends the TAP", async () => {
  // 600 comment lines before the rule: the ACL is turned into text in slices whose call arguments take stack.
  const largeAcl = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(
    largeAcl,
    `${"# a comment line of the kind administrators write, long enough to count for something\n".repeat(500)}allow br0\n`,
  );
  const largeAclHelper = join(await buildWithAcl(largeAcl), "tap-bridge-helper");
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    // Below ~150 KiB Bun itself does not start; from 176 KiB on the helper must work (slices of 8,192 bytes overflowed at 192).
    for (const kib of [176, 192, 208]) {
      const outcome = await runHelper([
        ...ns.prefix(),
        "prlimit",
        `--stack=${kib * 1024}`,
        largeAclHelper,
        "--use-vnet",
        "--fd=3",
        "--br=br0",
      ]);
      if (outcome.fd !== null) closeFd(outcome.fd);
      expect({ kib, exitCode: outcome.exitCode, sent: outcome.fd !== null, stderr: outcome.stderr }).toEqual({
        kib,
        exitCode: 0,
        sent: true,
        stderr: "",
      });
    }
    expect(await ns.tapNames()).toEqual([]);
  });
}, 60_000);
