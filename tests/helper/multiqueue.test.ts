// --queues=N: one multiqueue TAP, N fds in one message, each a queue on the bridge; bad counts and counts above the limit refused.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AF_UNIX, IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { POLLIN, SOCK_STREAM, VIRTIO_NET_HDR_LEN } from "../../shared/kernel-launcher.ts";
import { closeFd, pollOneOrErrno } from "../../shared/libc.ts";
import { openSocketPair } from "../../shared/libc-launcher.ts";
import { tapInfo } from "../../shared/tap-info.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { readTestFrame, testFrame } from "../support/frames.ts";
import { runHelper, type HelperOutcome } from "../support/helper-run.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";
import { run } from "../support/proc.ts";
import { PACKET_TOOL } from "../support/tools.ts";
import { asUser, BOB, withOpenTunDevice } from "../support/users.ts";

const folder = tempFolder("tl-acl-");
const aclFile = join(folder, "bridge.conf");
const policyFile = join(folder, "bridge-policy.conf");
writeFileSync(aclFile, "allow br0\n");
const dist = await buildWithAcl(aclFile, policyFile);
const helper = join(dist, "tap-bridge-helper");
const opened: number[] = [];
const QUEUE_RACER = join(import.meta.dir, "../support/queue-racer.ts");
afterAll(() => {
  for (const fd of opened.splice(0)) closeFd(fd);
});

function keep(outcome: HelperOutcome): number[] {
  opened.push(...outcome.fds);
  return outcome.fds;
}

/** The index of the fd among `fds` the test frame arrives on, or -1. */
function queueReceiving(fds: number[], timeoutMs: number): number {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const [index, fd] of fds.entries()) {
      if (pollOneOrErrno(fd, POLLIN, 0) > 0 && readTestFrame(fd, 50, VIRTIO_NET_HDR_LEN) !== null) return index;
    }
    Bun.sleepSync(5);
  }
  return -1;
}

describe("--queues=4", () => {
  test("sends 4 fds in one message, each a queue of the same multiqueue TAP on the bridge; a frame into the bridge comes out of one", async () => {
    writeFileSync(policyFile, "* br0 4 queues=4\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcome = await runHelper([...ns.prefix(), helper, "--use-vnet", "--queues=4", "--fd=3", "--br=br0"]);
      expect(outcome.stderr).toBe("");
      expect(outcome.exitCode).toBe(0);
      const fds = keep(outcome);
      expect(fds.length).toBe(4);
      expect(new Set(fds).size).toBe(4);
      const infos = fds.map((fd) => tapInfo(fd));
      const [name] = await ns.tapNames();
      expect(infos.map((info) => [info.name, info.isTap, info.multiQueue, info.vnetHeader])).toEqual(
        Array(4).fill([name, true, true, true]),
      );
      const link = await ns.link(name ?? "");
      expect(link.master).toBe("br0");
      expect(link.linkinfo?.info_data).toMatchObject({ multi_queue: true, numqueues: 4 });

      // A broadcast sent by the bridge itself; each queue reads it behind its virtio-net header.
      const frame = Buffer.from(testFrame("02:00:00:00:00:0b", "to-queues")).toString("hex");
      await ns.exec(process.execPath, PACKET_TOOL, "send", "br0", frame);
      expect(queueReceiving(fds, 3000)).toBeGreaterThanOrEqual(0);
      for (const fd of fds) closeFd(fd);
      opened.splice(0);
      expect(await ns.tapNames()).toEqual([]);
    });
  });
});

describe("refusals", () => {
  for (const value of ["0", "17", "x", "", "04x", "-1"]) {
    test(`--queues=${value}: usage, exit 1, no TAP`, async () => {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const outcome = await runHelper([...ns.prefix(), helper, `--queues=${value}`, "--fd=3", "--br=br0"]);
        expect(outcome.exitCode).toBe(1);
        expect(outcome.fd).toBe(null);
        expect(outcome.stderr).toBe(
          `tap-bridge-helper: --queues=${value} is not a number of queues from 1 to 16\ntap-bridge-helper: usage: tap-bridge-helper [--use-vnet] [--queues=N] [--mac=MAC] --br=BRIDGE --fd=N\n`,
        );
        expect(await ns.tapNames()).toEqual([]);
      });
    });
  }

  test("above the policy's queues= (or the default, one): refused naming the limit, no TAP", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      writeFileSync(policyFile, "* br0 4 queues=2\n");
      const overRule = await runHelper([...ns.prefix(), helper, "--queues=3", "--fd=3", "--br=br0"]);
      expect(overRule.exitCode).toBe(1);
      expect(overRule.stderr).toContain(
        `tap-bridge-helper: access denied: --queues=3 is more than rule "* br0 4 queues=2" at ${policyFile}:1 allows (2 per TAP)\n`,
      );
      keep(await runHelper([...ns.prefix(), helper, "--queues=2", "--fd=3", "--br=br0"]));
      // A line without queues=, no line, no policy file: one queue (docs/design.md, "What the helper cannot undo").
      for (const policy of ["* br0 4\n", "", null]) {
        if (policy === null) rmSync(policyFile, { force: true });
        else writeFileSync(policyFile, policy);
        const overDefault = await runHelper([...ns.prefix(), helper, "--queues=2", "--fd=3", "--br=br0"]);
        const source = policy === "* br0 4\n" ? `rule "* br0 4" at ${policyFile}:1` : "the default without a policy line that sets queues=";
        expect(overDefault.stderr).toBe(
          `tap-bridge-helper: access denied: --queues=2 is more than ${source} allows (1 per TAP)\n` +
            `tap-bridge-helper: ask for at most 1; an administrator can allow more with queues=N (up to 16) in ${policyFile}\n`,
        );
        expect(overDefault.exitCode).toBe(1);
        expect(overDefault.fd).toBe(null);
      }
      expect((await ns.tapNames()).length).toBe(1);
      for (const fd of opened.splice(0)) closeFd(fd);
      expect(await ns.tapNames()).toEqual([]);
    });
  });
});

describe("a queue another user attaches in the moment before the TAP has an owner (having watched for the new TAP's name)", () => {
  const what = {
    hold: "kept",
    persist: "used to make the TAP persistent, then closed",
    owner: "used to make itself the owner after the helper did, then closed",
  };
  for (const action of ["hold", "persist", "owner"] as const) {
    test(`${what[action]}: found before the TAP goes up, that TAP deleted, and a fresh one sent`, async () => {
      writeFileSync(policyFile, "* br0 4 queues=2\n"); // several queues only where a line allows them
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await withRacer(ns, action, async (lines) => {
          // (The owner racer's 400 ms fall between the helper's TUNSETOWNER and its check of the queues.)
          const outcome = await requestSlowly(ns);
          keep(outcome);
          expect((await lines.read()).value).toBe("attached\n");
          expect(outcome.stderr).toBe("");
          expect(outcome.exitCode).toBe(0);
          expect(outcome.fds.length).toBe(2);
          // Only the fresh TAP is left, renamed to the kernel's next free name once root owned it.
          expect(await ns.tapNames()).toEqual(["tap0"]);
          expect((await ns.link("tap0")).linkinfo?.info_data).toMatchObject({
            numqueues: 2,
            numdisabled: 0,
            persist: false,
            user: "root",
            group: "root",
          });
        });
      });
    }, 30_000);
  }
});

test("a user who reaches every new TAP: three TAPs made and deleted, then a refusal naming the step, nothing left", async () => {
  writeFileSync(policyFile, "* br0 4 queues=2\n");
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    await withRacer(ns, "every", async (lines, racer) => {
      const outcome = await requestSlowly(ns);
      keep(outcome);
      expect(outcome.stderr).toMatch(
        /^tap-bridge-helper: failed to make device `tap[0-9a-f]{12}' with 2 queues: another program attached a queue to it before it had an owner \(3 queues, 0 detached, where the helper attached 2\)\ntap-bridge-helper: run it again, and tell an administrator: someone on this host takes queues of new TAPs\n$/,
      );
      expect(outcome.exitCode).toBe(1);
      expect(outcome.fds).toEqual([]);
      expect(await ns.tapNames()).toEqual([]);
      racer.kill("SIGKILL");
      let said = "";
      for (let line = await lines.read(); !line.done; line = await lines.read()) said += line.value;
      expect(said).toBe("attached\n".repeat(3)); // one queue on each of the three TAPs the helper made
    });
  });
}, 60_000);

test("a helper killed while another user holds a queue of its new TAP leaves that TAP: doctor names it, no other TAP", async () => {
  // Why the default is one queue (docs/design.md, "What the helper cannot undo"): shown here with a line that grants two.
  writeFileSync(policyFile, "* br0 4 queues=2\n");
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    await withRacer(ns, "persist", async (lines) => {
      const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
      // setsid: the helper and strace in a process group of their own, killed together as a caller kills its helper.
      const killed = Bun.spawn({
        cmd: ["setsid", ...ns.prefix(), ...SLOW_IOCTLS, helper, "--use-vnet", "--queues=2", "--fd=3", "--br=br0"],
        stdio: ["ignore", "ignore", "ignore", theirs],
      });
      closeFd(theirs);
      try {
        expect((await lines.read()).value).toBe("attached\n"); // bob's queue made the TAP persistent before it had an owner
        process.kill(-killed.pid, "SIGKILL"); // within the 100 ms strace holds the helper's next ioctl
        await killed.exited;
        const stranded = await ns.tapNames();
        expect(stranded).toEqual([expect.stringMatching(/^tap[0-9a-f]{12}$/)]);
        const [tap = ""] = stranded;
        expect((await ns.link(tap)).linkinfo?.info_data).toMatchObject({ multi_queue: true, persist: true, numqueues: 0 });
        // The controls: an administrator's multiqueue TAP, and one under a name of the helper's for a TAP in the making but on the bridge.
        await ns.ip("tuntap", "add", "dev", "tap7", "mode", "tap", "multi_queue");
        await ns.ip("tuntap", "add", "dev", "tap00000000000a", "mode", "tap", "multi_queue");
        await ns.ip("link", "set", "tap00000000000a", "master", "br0");
        const doctor = await run([...ns.prefix(), join(dist, "tap-launcher"), "doctor"]);
        const named = doctor.stderr.split("\n").filter((line) => line.includes(": TAP tap"));
        expect(named).toEqual([
          `tap-launcher: warning: TAP ${tap}: a multiqueue TAP under the name the helper gives one only while making it, on no bridge (owner none, persistent): left by a request whose helper was killed after another program took a queue of it (or being made right now: run doctor again); it counts against no one -- fix: as root: ip tuntap del dev ${tap} mode tap multi_queue; only users given queues= in the policy file can leave one`,
        ]);
      } finally {
        process.kill(-killed.pid, "SIGKILL");
        closeFd(ours);
      }
    });
  });
}, 30_000);

/** Runs `body` once the queue racer (startRacer) is ready, with the lines it prints after; the racer is killed afterwards. */
async function withRacer(
  ns: TestNetns,
  action: string,
  body: (lines: ReturnType<typeof startRacer>["lines"], racer: Bun.Subprocess) => Promise<void>,
): Promise<void> {
  const { racer, lines } = startRacer(ns, action);
  try {
    expect((await lines.read()).value).toBe("ready\n");
    await body(lines, racer);
  } finally {
    racer.kill("SIGKILL");
    await racer.exited;
  }
}

/**
 * The queue racer (tests/support/queue-racer.ts) as bob, doing `action` with a queue of each new
 * multiqueue TAP it can reach, and the lines it prints.
 */
function startRacer(ns: TestNetns, action: string) {
  const flags = String(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
  const racer = Bun.spawn({
    cmd: [...ns.prefix(), ...withOpenTunDevice(), ...asUser(BOB), process.execPath, QUEUE_RACER, "new", flags, action],
    stdout: "pipe",
    stderr: "inherit",
  });
  return { racer, lines: racer.stdout.pipeThrough(new TextDecoderStream()).getReader() };
}

/** strace holding every ioctl of the program it runs for 100 ms. */
const SLOW_IOCTLS = ["strace", "-qq", "-f", "-o", "/dev/null", "-e", "trace=ioctl", "-e", "inject=ioctl:delay_enter=100000"];

/**
 * The helper for a two-queue TAP, with strace holding every ioctl of it for 100 ms, so that the moment
 * between creating the TAP and giving it an owner is long enough for a racer to win every time.
 */
function requestSlowly(ns: TestNetns): Promise<HelperOutcome> {
  return runHelper([...ns.prefix(), ...SLOW_IOCTLS, helper, "--use-vnet", "--queues=2", "--fd=3", "--br=br0"]);
}
