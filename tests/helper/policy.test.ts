// The shared-hosts policy through the installed setuid helper, as real unprivileged users in throw-away namespaces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { receiveFds } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { POLLIN, SOCK_STREAM, TUNSETPERSIST } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl, pollOneOrErrno, readOrErrno, writeOrErrno } from "../../shared/libc.ts";
import { openSocketPair } from "../../shared/libc-launcher.ts";
import { readTestFrame, testFrame } from "../support/frames.ts";
import { NOBODY, testAccounts } from "../support/accounts.ts";
import { runHelper, type HelperOutcome } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { run, runOk } from "../support/proc.ts";
import { privateDevPrefix, startSyslogFlood, SyslogDaemon, SyslogSink } from "../support/syslog-sink.ts";
import { ALICE, asUser, BOB, sharedFolder, type TestUser } from "../support/users.ts";

let installed: TestInstall;
const accounts = testAccounts();
beforeAll(async () => {
  installed = await installForTest("setuid", "allow br0\n");
});
afterAll(() => installed.uninstall());

/** Runs the installed helper (the shim) as `user`, the way QEMU does, with names for the test users and a private /dev. */
function request(ns: TestNetns, user: TestUser, options: { log?: { path: string }; extra?: string[] } = {}): Promise<HelperOutcome> {
  return runHelper([
    ...ns.prefix(),
    ...privateEtcPrefix(accounts),
    ...privateDevPrefix(options.log?.path ?? null),
    ...asUser(user),
    installed.shim,
    ...(options.extra ?? []),
    "--fd=3",
    "--br=br0",
  ]);
}

/** The namespace's TAP names, sorted. */
async function tapsOf(ns: TestNetns): Promise<string[]> {
  return (await ns.tapNames()).sort();
}

function closeAll(outcomes: HelperOutcome[]): void {
  for (const outcome of outcomes) if (outcome.fd !== null) closeFd(outcome.fd);
}

/**
 * Runs `body` in a namespace with br0, while alice floods a log socket nobody reads (every grant line
 * then waits its full second), and removes the flood, the socket and the namespace afterwards.
 */
async function withFullLog(body: (ns: TestNetns, log: SyslogSink) => Promise<void>): Promise<void> {
  const log = new SyslogSink(); // bound, but nobody reads it
  try {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const flood = await startSyslogFlood([...privateDevPrefix(log.path), ...asUser(ALICE)]);
      try {
        await body(ns, log);
      } finally {
        flood.kill("SIGKILL");
        await flood.exited;
      }
    });
  } finally {
    log.close();
  }
}

describe("quotas", () => {
  test("nobody br0 2: a third TAP is refused naming the rule and the TAPs in use; after one closes, the next is granted; others are not limited", async () => {
    installed.setPolicy("# lab\nnobody br0 2\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const held: HelperOutcome[] = [];
      try {
        for (let i = 0; i < 2; i += 1) held.push(await request(ns, NOBODY));
        expect(held.map((outcome) => [outcome.exitCode, outcome.fd !== null])).toEqual([
          [0, true],
          [0, true],
        ]);
        const inUse = await tapsOf(ns);
        expect(inUse.length).toBe(2);

        const third = await request(ns, NOBODY);
        expect(third.exitCode).toBe(1);
        expect(third.fd).toBe(null);
        expect(third.stderr).toContain(
          `tap-bridge-helper: access denied by policy file: rule "nobody br0 2" at ${installed.policyFile}:2 limits you to 2 on bridge br0: 2 in use (${inUse.join(", ")})\n`,
        );
        expect(await tapsOf(ns)).toEqual(inUse);

        const first = held.shift();
        if (first?.fd != null) closeFd(first.fd);
        const next = await request(ns, NOBODY);
        held.push(next);
        expect(next.exitCode).toBe(0);
        expect(next.fd).not.toBe(null);

        // alice has no line: no limit from the policy.
        for (let i = 0; i < 3; i += 1) held.push(await request(ns, ALICE));
        expect(held.slice(-3).map((outcome) => outcome.exitCode)).toEqual([0, 0, 0]);
        expect((await tapsOf(ns)).length).toBe(5);
      } finally {
        closeAll(held);
      }
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 60_000);

  test("20 requests at once by one user under MAX 3: at most 3 TAPs, every other request refused cleanly, nothing left", async () => {
    installed.setPolicy("alice br0 3\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => request(ns, ALICE)));
      try {
        const granted = outcomes.filter((outcome) => outcome.fd !== null);
        expect(granted.length).toBeGreaterThanOrEqual(1);
        expect(granted.length).toBeLessThanOrEqual(3);
        expect(granted.every((outcome) => outcome.exitCode === 0)).toBe(true);
        for (const refused of outcomes.filter((outcome) => outcome.fd === null)) {
          expect(refused.exitCode).toBe(1);
          expect(refused.stderr).toMatch(
            /^tap-bridge-helper: access denied by policy file: rule "alice br0 3" at \S+:1 limits you to 3 on bridge br0: [0-9]+ in use \(/,
          );
        }
        expect((await tapsOf(ns)).length).toBe(granted.length);
      } finally {
        closeAll(outcomes);
      }
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 120_000);

  test("a line for the user's group holds for them; * 0 refuses everyone else before any TAP is made", async () => {
    installed.setPolicy("* br0 0\n@lab br0 1\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const alice = await request(ns, ALICE);
      try {
        expect(alice.exitCode).toBe(0);
        const bob = await request(ns, BOB);
        expect(bob.exitCode).toBe(1);
        expect(bob.stderr).toContain(
          `access denied by policy file: rule "* br0 0" at ${installed.policyFile}:1 allows you no TAP on bridge br0\n`,
        );
        expect((await tapsOf(ns)).length).toBe(1);
      } finally {
        closeAll([alice]);
      }
    });
  }, 60_000);

  test("a port without a place counts for no one: an administrator's TAP for bob, given by bob to alice, burdens neither", async () => {
    installed.setPolicy("alice br0 1\nbob br0 1\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.exec("ip", "tuntap", "add", "dev", "tap-bob", "mode", "tap", "user", String(ALICE.uid));
      await ns.ip("link", "set", "tap-bob", "master", "br0");
      const outcomes = [await request(ns, ALICE), await request(ns, BOB)];
      try {
        expect(outcomes.map((outcome) => outcome.exitCode)).toEqual([0, 0]);
      } finally {
        closeAll(outcomes);
      }
    });
  }, 60_000);

  test("TAPs made while no line limits the user hold places too, and count once a line does", async () => {
    installed.setPolicy("bob br0 5\n"); // a policy file, and no line for alice
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const early: HelperOutcome[] = [];
      const late: HelperOutcome[] = [];
      try {
        for (let i = 0; i < 3; i += 1) early.push(await request(ns, ALICE));
        expect(early.map((outcome) => outcome.exitCode)).toEqual([0, 0, 0]);
        const places = await Promise.all((await tapsOf(ns)).map(async (tap) => (await ns.link(tap)).altnames?.length ?? 0));
        expect(places).toEqual([1, 1, 1]);
        installed.setPolicy("bob br0 5\nalice br0 2\n");
        late.push(await request(ns, ALICE));
        expect(late[0]?.exitCode).toBe(1);
        expect(late[0]?.stderr).toMatch(/limits you to 2 on bridge br0: 2 in use \(tap[0-9]+, tap[0-9]+\)/);
        expect((await tapsOf(ns)).length).toBe(3);
      } finally {
        closeAll([...early, ...late]);
      }
    });
  });

  test("a name lookup that fails (no passwd or group database) denies, not 'no such user'", async () => {
    installed.setPolicy("nobody br0 0\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const normal = await request(ns, NOBODY);
      expect(normal.stderr).toContain('rule "nobody br0 0"');
      const broken = await runHelper([
        // Only the files service, and no files: the lookup itself fails (ENOENT), as when a directory service is down.
        ...ns.prefix(),
        ...privateEtcPrefix({ "nsswitch.conf": "passwd: files\ngroup: files\n" }, ["passwd", "group"]),
        ...privateDevPrefix(null),
        ...asUser(NOBODY),
        installed.shim,
        "--fd=3",
        "--br=br0",
      ]);
      expect(broken.exitCode).toBe(1);
      expect(broken.fd).toBe(null);
      expect(broken.stderr).toContain(
        "tap-bridge-helper: access denied by policy file: cannot look up the names of uid 65534 and its groups: ",
      );
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 60_000);

  test("a malformed or unreadable policy denies everyone, naming file and line", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      installed.setPolicy("alice br0 2\nbob br0 two\n");
      const malformed = await request(ns, ALICE);
      expect(malformed.exitCode).toBe(1);
      expect(malformed.stderr).toContain(
        `access denied: policy syntax error at ${installed.policyFile}:2: invalid MAX "two": expected a whole number from 0 to 1024\n`,
      );
      installed.setPolicy("alice br0 2\n");
      chmodSync(installed.policyFile, 0o600);
      const unreadable = await request(ns, ALICE);
      expect(unreadable.exitCode).toBe(1);
      expect(unreadable.stderr).toContain(`access denied: cannot read policy file ${installed.policyFile}: EACCES\n`);
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 60_000);
});

describe("ownership", () => {
  test("every TAP gets the caller's owner and group; one its holder made persistent stays theirs and counts against them", async () => {
    installed.setPolicy("alice br0 1\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const granted = await request(ns, ALICE);
      expect(granted.exitCode).toBe(0);
      const [tap = ""] = await tapsOf(ns);
      const link = await ns.link(tap);
      expect(link.linkinfo?.info_data).toMatchObject({ user: ALICE.uid, group: ALICE.gid });
      expect((await ns.exec("cat", `/sys/class/net/${tap}/owner`)).trim()).toBe(String(ALICE.uid));
      expect((await ns.exec("cat", `/sys/class/net/${tap}/group`)).trim()).toBe(String(ALICE.gid));

      // The holder makes it persistent (no privilege needed once the fd is attached) and closes it.
      if (granted.fd === null) throw new Error("no fd");
      ioctl(granted.fd, TUNSETPERSIST, "TUNSETPERSIST", 1);
      closeFd(granted.fd);
      expect(await tapsOf(ns)).toEqual([tap]);

      const asBob = await run([
        ...ns.prefix(),
        ...privateDevPrefix(null),
        ...asUser(BOB),
        installed.launcher,
        `--tap=${tap}`,
        "--unmanaged",
        "--",
        "true",
      ]);
      expect(asBob.exitCode).not.toBe(0);
      expect(asBob.stderr).toContain(`TAP ${tap} belongs to someone else (user ${ALICE.uid} and group ${ALICE.gid})`);

      const again = await request(ns, ALICE);
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain(`limits you to 1 on bridge br0: 1 in use (${tap})`);
      expect(await tapsOf(ns)).toEqual([tap]);
    });
  }, 60_000);
});

/** An ARP request from `mac`/`ip` for `target`, padded to the minimum frame. */
function arpRequest(mac: number[], ip: number[], target: number[]): Uint8Array {
  const frame = new Uint8Array(60);
  frame.fill(0xff, 0, 6);
  frame.set(mac, 6);
  frame.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12); // ARP, Ethernet/IPv4, request
  frame.set(mac, 22);
  frame.set(ip, 28);
  frame.set(target, 38);
  return frame;
}

/** Whether an ARP reply arrives on `fd` before the deadline. */
function arpReplyArrives(fd: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const buffer = new Uint8Array(2048);
  while (Date.now() < deadline) {
    if (pollOneOrErrno(fd, POLLIN, deadline - Date.now()) <= 0) continue;
    const n = readOrErrno(fd, buffer);
    if (n >= 42 && buffer[12] === 0x08 && buffer[13] === 0x06 && buffer[21] === 2) return true;
  }
  return false;
}

/** The marker of the first test frame `fd` receives within the time, or null. */
function markerReceived(fd: number, timeoutMs: number): string | null {
  const frame = readTestFrame(fd, timeoutMs);
  return frame === null ? null : new TextDecoder().decode(frame.subarray(14, 20));
}

describe("isolation", () => {
  test("the port of an isolated line carries the kernel's isolated flag; others do not", async () => {
    installed.setPolicy("@lab br0 4 isolated\nbob br0 4\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcomes = [await request(ns, ALICE), await request(ns, BOB)];
      try {
        const isolated = await Promise.all(
          (await tapsOf(ns)).map(async (tap) => {
            const detail = JSON.parse(await ns.ip("-j", "-d", "link", "show", "dev", tap))[0];
            return [detail.linkinfo.info_data.user, detail.linkinfo.info_slave_data.isolated];
          }),
        );
        expect(isolated.sort()).toEqual([
          [ALICE.uid, true],
          [BOB.uid, false],
        ]);
      } finally {
        closeAll(outcomes);
      }
    });
  }, 60_000);

  test("two guests on isolated ports exchange no frame, each reaches the bridge's own address, a guest on a plain port reaches both", async () => {
    installed.setPolicy("@lab br0 4 isolated\nbob br0 4\n");
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await ns.ip("addr", "add", "10.77.0.1/24", "dev", "br0");
      const outcomes = [await request(ns, ALICE), await request(ns, ALICE), await request(ns, BOB)];
      try {
        const [a, b, c] = outcomes.map((outcome) => {
          if (outcome.fd === null) throw new Error(`no TAP: ${outcome.stderr}`);
          return outcome.fd;
        }) as [number, number, number];
        const mac = (last: number) => [0x02, 0, 0, 0, 0, last];
        const send = (fd: number, frame: Uint8Array) => expect(writeOrErrno(fd, frame)).toBe(frame.byteLength);

        send(a, testFrame("02:00:00:00:00:0a", "from-a"));
        expect(markerReceived(c, 2000)).toBe("from-a");
        expect(markerReceived(b, 1000)).toBe(null);
        send(b, testFrame("02:00:00:00:00:0b", "from-b"));
        expect(markerReceived(c, 2000)).toBe("from-b");
        expect(markerReceived(a, 1000)).toBe(null);
        // Unicast to a known address on the other isolated port: dropped too.
        const unicast = testFrame("02:00:00:00:00:0a", "a-to-b");
        unicast.set(mac(0x0b), 0);
        send(a, unicast);
        expect(markerReceived(b, 1000)).toBe(null);
        send(c, testFrame("02:00:00:00:00:0c", "from-c"));
        expect(markerReceived(a, 2000)).toBe("from-c");
        expect(markerReceived(b, 2000)).toBe("from-c");

        for (const [fd, last] of [
          [a, 0x0a],
          [b, 0x0b],
        ] as const) {
          send(fd, arpRequest(mac(last), [10, 77, 0, last], [10, 77, 0, 1]));
          expect(arpReplyArrives(fd, 2000)).toBe(true);
        }
      } finally {
        closeAll(outcomes);
      }
    });
  }, 60_000);
});

/** A program that logs "probe" with glibc's syslog(3) (tag tap-bridge-helper), built once. */
async function glibcSyslogProbe(): Promise<string> {
  const folder = sharedFolder("tl-probe-");
  writeFileSync(
    join(folder, "probe.c"),
    '#include <syslog.h>\nint main(void) { openlog("tap-bridge-helper", LOG_PID, LOG_AUTHPRIV); syslog(LOG_INFO, "probe"); return 0; }\n',
  );
  await runOk(["cc", "-o", join(folder, "probe"), join(folder, "probe.c")]);
  return join(folder, "probe");
}

/** Requests made during a flood of /dev/log. */
const FLOODED_REQUESTS = 10;

describe("audit", () => {
  test("one syslog line per grant and per refusal, authpriv, with user, uid, bridge, TAP, queues, rule and use", async () => {
    installed.setPolicy("alice br0 1\n");
    const log = new SyslogSink();
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const granted = await request(ns, ALICE, { log });
        const refused = await request(ns, ALICE, { log });
        const [tap = ""] = await tapsOf(ns);
        closeAll([granted, refused]);
        const lines = log.lines();
        expect(lines.length).toBe(2);
        const rule = `${installed.policyFile}:1`;
        expect(lines[0]).toMatch(
          new RegExp(
            `^<86>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} tap-bridge-helper\\[[0-9]+\\]: grant user=alice uid=4101 bridge=br0 tap=${tap} queues=1 rule=${rule} use=1/1$`,
          ),
        );
        expect(lines[1]).toMatch(
          new RegExp(
            `^<84>.* tap-bridge-helper\\[[0-9]+\\]: refuse user=alice uid=4101 bridge=br0 tap=- queues=1 rule=${rule} use=1/1 reason="access denied by policy file: rule \\\\"alice br0 1\\\\" at ${rule} limits you to 1 on bridge br0: 1 in use \\(${tap}\\)"$`,
          ),
        );
      });
    } finally {
      log.close();
    }
  }, 60_000);

  test("the grant line is written before the fds are sent: a caller that kills the helper once it has them cannot suppress it", async () => {
    installed.setPolicy("alice br0 4\n");
    const log = new SyslogSink();
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
        const child = Bun.spawn({
          cmd: [
            ...ns.prefix(),
            ...privateEtcPrefix(accounts),
            ...privateDevPrefix(log.path),
            ...asUser(ALICE),
            installed.shim,
            "--fd=3",
            "--br=br0",
          ],
          stdio: ["ignore", "ignore", "ignore", theirs],
        });
        closeFd(theirs);
        try {
          expect(pollOneOrErrno(ours, POLLIN, 30_000)).toBe(1);
          const received = receiveFds(ours, 4);
          child.kill("SIGKILL");
          await child.exited;
          for (const fd of received.fds) closeFd(fd);
          expect(received.fds.length).toBe(1);
          expect(log.lines()).toEqual([expect.stringMatching(/: grant user=alice uid=4101 bridge=br0 tap=tap0 queues=1 /)]);
        } finally {
          closeFd(ours);
        }
      });
    } finally {
      log.close();
    }
  }, 60_000);

  test("while the grant line waits on a full log, the TAP is still root's and down: the caller cannot take a queue of it and keep it", async () => {
    installed.setPolicy("alice br0 4 queues=2\n");
    await withFullLog(async (ns, log) => {
      const helper = request(ns, ALICE, { log, extra: ["--queues=2"] });
      let seen = "";
      for (let waited = 0; seen === "" && waited < 3000; waited += 20) {
        await Bun.sleep(20);
        seen = (await ns.exec("sh", "-c", "cat /sys/class/net/tap0/owner /sys/class/net/tap0/flags 2>/dev/null || true")).trim();
      }
      await Bun.sleep(200); // inside the grant's wait of 1 s
      const state = (await ns.exec("sh", "-c", "cat /sys/class/net/tap0/owner /sys/class/net/tap0/flags")).split("\n");
      // A queue of alice's own, attached and made persistent, as an attacker would keep the TAP.
      const grab = await run([
        ...ns.prefix(),
        ...privateDevPrefix(null),
        ...asUser(ALICE),
        "/usr/bin/python3",
        "-c",
        "import fcntl,os,struct\nfd=os.open('/dev/net/tun',os.O_RDWR)\nfcntl.ioctl(fd,0x400454ca,struct.pack('16sH',b'tap0',0x1102))\nfcntl.ioctl(fd,0x400454cb,1)",
      ]);
      const outcome = await helper;
      closeAll([outcome]);
      expect({ owner: state[0], up: (Number.parseInt(state[1] ?? "0", 16) & 1) === 1 }).toEqual({ owner: "0", up: false });
      expect(grab.exitCode).not.toBe(0);
      expect(grab.stderr).toContain("PermissionError");
      expect(outcome.exitCode).toBe(1);
      expect(await tapsOf(ns)).toEqual([]);
    });
  }, 60_000);

  test("a user flooding /dev/log while asking for TAPs gets no TAP without its grant line", async () => {
    installed.setPolicy("alice br0 32\n");
    const daemon = await SyslogDaemon.start("dgram");
    const outcomes: HelperOutcome[] = [];
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        // Two flooders as alice herself, writing the /dev/log her helpers write.
        const floods = [];
        for (let i = 0; i < 2; i += 1) floods.push(await startSyslogFlood([...privateDevPrefix(daemon.path), ...asUser(ALICE)]));
        try {
          for (let i = 0; i < FLOODED_REQUESTS; i += 1) outcomes.push(await request(ns, ALICE, { log: daemon }));
        } finally {
          for (const flood of floods) flood.kill("SIGKILL");
          await Promise.all(floods.map((flood) => flood.exited));
        }
        const granted = outcomes.filter((outcome) => outcome.fd !== null);
        // A refused request left no TAP behind: the TAPs are exactly the granted ones, each held by its fd.
        const taps = await tapsOf(ns);
        expect(taps.length).toBe(granted.length);
        const records = await daemon.stop();
        const grantedInLog = records.flatMap((record) => / grant user=alice .* tap=(tap[0-9]+) /.exec(record.line)?.[1] ?? []);
        for (const outcome of outcomes) {
          if (outcome.exitCode === 0) continue;
          expect(outcome.stderr).toContain("tap-bridge-helper: failed to hand over device `tap");
        }
        // Every TAP handed over has its grant line.
        expect(grantedInLog.sort()).toEqual(taps);
        // The daemon was healthy: every request was served, none refused for want of its line.
        expect(granted.length).toBe(FLOODED_REQUESTS);
      });
    } finally {
      closeAll(outcomes);
      await daemon.stop();
    }
  }, 120_000);

  test("a log socket that takes nothing: the grant is refused after a second, its TAP deleted, and the loss said", async () => {
    installed.setPolicy("alice br0 4\n");
    await withFullLog(async (ns, log) => {
      const outcome = await request(ns, ALICE, { log });
      closeAll([outcome]);
      expect(outcome.exitCode).toBe(1);
      expect(outcome.fd).toBe(null);
      expect(outcome.stderr.split("\n")).toEqual([
        "tap-bridge-helper: failed to hand over device `tap0': audit line not written to the system log: the log socket took nothing for 1 s (ETIMEDOUT)",
        "tap-bridge-helper: the policy file requires a line in the system log for every TAP handed over: tell an administrator that the syslog daemon does not take lines (`tap-launcher doctor` checks it)",
        "tap-bridge-helper: warning: audit line not written to the system log: the log socket took nothing for 1 s (ETIMEDOUT)",
        "",
      ]);
      expect(await tapsOf(ns)).toEqual([]);
      expect(log.lines().filter((line) => line.includes("tap-bridge-helper["))).toEqual([]);
    });
  }, 60_000);

  test("a stream /dev/log (syslog-ng's unix-stream): each line is a record ended by a NUL, as syslog(3) sends it", async () => {
    installed.setPolicy("alice br0 1\n");
    const daemon = await SyslogDaemon.start("stream");
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const granted = await request(ns, ALICE, { log: daemon });
        const refused = await request(ns, ALICE, { log: daemon });
        closeAll([granted, refused]);
        expect([granted.exitCode, refused.exitCode]).toEqual([0, 1]);
        expect(granted.stderr).toBe("");
        // glibc's own syslog(3) on the same socket, for the framing it uses there.
        await runOk([...privateDevPrefix(daemon.path), ...asUser(ALICE), await glibcSyslogProbe()]);
        const records = await daemon.stop();
        expect(records).toEqual([
          {
            line: expect.stringMatching(/^<86>.* tap-bridge-helper\[[0-9]+\]: grant user=alice uid=4101 bridge=br0 tap=tap0 queues=1 /),
            end: "nul",
          },
          { line: expect.stringMatching(/^<84>.* tap-bridge-helper\[[0-9]+\]: refuse user=alice uid=4101 bridge=br0 tap=- /), end: "nul" },
          { line: expect.stringMatching(/ tap-bridge-helper\[[0-9]+\]: probe$/), end: "nul" },
        ]);
      });
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  test("what a reader can rely on: the kernel-attested uid tells others' forgeries apart, not the caller's own", async () => {
    installed.setPolicy("alice br0 4\n");
    const daemon = await SyslogDaemon.start("dgram");
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        const granted = await request(ns, ALICE, { log: daemon });
        closeAll([granted]);
        expect(granted.exitCode).toBe(0);
        // The same line, with the tag's pid made the sender's own (logger sends it as its SCM_CREDENTIALS).
        const forged = `grant user=alice uid=${ALICE.uid} bridge=br0 tap=tap9 queues=1 rule=${installed.policyFile}:1 use=1/4`;
        const forge = ["sh", "-c", 'exec logger -u /dev/log -p authpriv.info -t tap-bridge-helper --id=$$ "$0"', forged];
        for (const user of [ALICE, BOB]) await runOk([...privateDevPrefix(daemon.path), ...asUser(user), ...forge]);
        const records = await daemon.stop();
        /** What a reader of the record can check: the tag's pid and the line's uid against the kernel's. */
        const checks = records.map(({ line, pid, uid }) => ({
          grant: / grant user=alice /.test(line),
          tagPidIsSender: line.includes(` tap-bridge-helper[${pid}]: `),
          uidIsSender: line.includes(` uid=${uid} `),
        }));
        expect(checks).toEqual([
          { grant: true, tagPidIsSender: true, uidIsSender: true }, // the helper's
          { grant: true, tagPidIsSender: true, uidIsSender: true }, // alice's own forgery: the same
          { grant: true, tagPidIsSender: true, uidIsSender: false }, // bob's, about alice: told apart
        ]);
        expect(records.map((record) => record.uid)).toEqual([ALICE.uid, ALICE.uid, BOB.uid]);
      });
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  test("an ACL refusal is audited too; a missing /dev/log is no error", async () => {
    installed.setPolicy("* all 4\n");
    const log = new SyslogSink();
    try {
      await withNetns(async (ns) => {
        await ns.addBridge("br0");
        await ns.addBridge("br9");
        const denied = await runHelper([
          ...ns.prefix(),
          ...privateEtcPrefix(accounts),
          ...privateDevPrefix(log.path),
          ...asUser(BOB),
          installed.shim,
          "--fd=3",
          "--br=br9",
        ]);
        expect(denied.exitCode).toBe(1);
        expect(log.lines()).toEqual([
          expect.stringMatching(
            /: refuse user=bob uid=4102 bridge=br9 tap=- queues=1 rule=- use=-\/- reason="access denied by acl file: no allow rule matches bridge br9/,
          ),
        ]);
        const noLog = await request(ns, BOB);
        closeAll([noLog]);
        expect(noLog.exitCode).toBe(0);
        expect(noLog.stderr).toBe("");
      });
    } finally {
      log.close();
    }
  }, 60_000);
});
