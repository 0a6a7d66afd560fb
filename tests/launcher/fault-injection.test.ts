// The launcher under strace's fault injection: each of its own system calls made to fail in turn, it
// says why in lines of its own (never a stack trace), exits 0, 1 or 127, and leaves no TAP behind.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildAllowingBr0, tempFolder } from "../support/build.ts";
import { run, type RunResult } from "../support/proc.ts";
import { adminTap } from "../support/admin-tap.ts";
import { type TestNetns, withNetns } from "../support/netns.ts";

/** The calls swept: the ones the launcher's own code makes, or the runtime makes for it (pipes, the event loop). */
const SWEPT = ["recvmsg", "recvfrom", "read", "close", "fcntl", "ioctl", "getdents64", "epoll_ctl", "write", "socketpair", "openat"];

let launcher = "";
let helper = "";

beforeAll(async () => {
  ({ launcher, helper } = await buildAllowingBr0());
});

/** What a Bun stack trace or crash report looks like in the launcher's output. */
const STACK_TRACE = /^\s+at .*[(:]\d+|^\d+ \| |Bun has crashed|^error: |^\s+\^$/m;

function strace(ns: TestNetns, options: string[], argv: string[]): Promise<RunResult> {
  return run([...ns.prefix(), "timeout", "60", "strace", "-qq", ...options, ...argv]);
}

/** The lines strace writes for `calls` during one run of `argv`. */
async function traceOf(ns: TestNetns, calls: string[], argv: string[]): Promise<string[]> {
  const file = join(tempFolder("tl-strace-"), "trace");
  await strace(ns, ["-o", file, "-e", `trace=${calls.join(",")}`], argv);
  return readFileSync(file, "utf8").split("\n");
}

/**
 * The launcher's own calls of each swept kind, by their number among that kind's calls: from where
 * its run begins (its first look at /proc/self/fd: before it, Bun starts its runtime and evaluates
 * modules) to where it becomes the guest (execve) or exits.
 */
async function ownCalls(ns: TestNetns, argv: string[]): Promise<{ call: string; nth: number; line: string }[]> {
  const traced = await traceOf(ns, [...SWEPT, "execve"], argv);
  const seen = new Map<string, number>();
  const points: { call: string; nth: number; line: string }[] = [];
  let begun = false;
  for (const line of traced) {
    const call = /^([a-z0-9_]+)\(/.exec(line)?.[1];
    if (call === undefined) continue;
    if (call === "execve") {
      if (begun) break; // the guest from here on
      continue;
    }
    const nth = (seen.get(call) ?? 0) + 1;
    seen.set(call, nth);
    if (call === "openat" && line.includes('"/proc/self/fd"')) begun = true;
    if (begun) points.push({ call, nth, line: line.slice(0, 100) });
  }
  return points;
}

/** Fails each of the launcher's own calls in turn with `errno`; returns what went wrong at each point. */
async function sweep(ns: TestNetns, argv: string[], allowedStatus: number[], errno = "EIO", skipped: string[] = []): Promise<string[]> {
  const tapNames = async () => [...(await ns.ip("-o", "link", "show", "type", "tun")).matchAll(/^\d+: ([^:@]+)/gm)].map((m) => m[1]);
  const tapsBefore = await tapNames();
  const points = (await ownCalls(ns, argv)).filter(({ call }) => !skipped.includes(call));
  expect(points.length).toBeGreaterThan(20);
  const problems: string[] = [];
  for (const { call, nth, line } of points) {
    const result = await strace(ns, ["-o", "/dev/null", "-e", `trace=${call}`, "-e", `inject=${call}:error=${errno}:when=${nth}`], argv);
    const output = result.stdout + result.stderr;
    const taps = await tapNames();
    const where = `${call} #${nth} (${line})`;
    if (STACK_TRACE.test(output)) problems.push(`${where}: a stack trace:\n${output}`);
    if (!allowedStatus.includes(result.exitCode)) problems.push(`${where}: exit ${result.exitCode}:\n${output}`);
    if (taps.join(" ") !== tapsBefore.join(" ")) problems.push(`${where}: TAPs ${taps.join(" ")} where there were ${tapsBefore.join(" ")}`);
    if (result.exitCode === 1 && !output.includes("tap-launcher: ") && !output.includes("error while loading shared libraries"))
      problems.push(`${where}: exit ${result.exitCode} without a word:\n${output}`);
  }
  console.log(`${points.length} points swept: ${points.map(({ call, nth }) => `${call}#${nth}`).join(" ")}`);
  return problems;
}

describe("every system call of the launcher's own failing in turn", () => {
  test("hand-over with the bridge helper: a one-line reason at each point, exit 0, 1 or 127, no TAP left", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      expect(await sweep(ns, [launcher, `--helper=${helper}`, "--", "true"], [0, 1, 127])).toEqual([]);
    });
  }, 600_000);

  test("relay mode with the bridge helper: the same, and the guest's own status (7) whenever it ran", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      expect(await sweep(ns, [launcher, `--helper=${helper}`, "--relay=stream", "--", "sh", "-c", "exit 7"], [1, 7, 127])).toEqual([]);
    });
  }, 600_000);
});

describe("every system call of the launcher's own failing in turn, with a TAP an administrator made", () => {
  test("relay mode on an unmanaged TAP: a one-line reason at each point, the guest's status whenever it ran, no TAP made or lost", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      await adminTap(ns, "tapu");
      const argv = [launcher, "--tap=tapu", "--unmanaged", "--relay=dgram", "--", "sh", "-c", "exit 7"];
      // close(2) is swept with the helper above. Here the launcher still spawns `ip` to read the TAP's
      // link, and a close strace fails keeps that pipe's end open, so its output never ends: a real
      // close(2) releases the fd even when it reports an error, so no run ever meets that.
      expect(await sweep(ns, argv, [1, 7, 127], "EIO", ["close"])).toEqual([]);
    });
  }, 600_000);
});

describe("what the launcher blames", () => {
  test("a failed fcntl on the fd the helper sent is the launcher's step, not the helper sending something that is no TAP", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const argv = [launcher, `--helper=${helper}`, "--", "true"];
      const points = await ownCalls(ns, argv);
      const received = points.findIndex(({ call }) => call === "recvmsg");
      const point = points.slice(received).find(({ call, line }) => call === "fcntl" && line.includes("F_GETFL"));
      expect(point).toBeDefined();
      const result = await strace(ns, ["-o", "/dev/null", "-e", "trace=fcntl", "-e", `inject=fcntl:error=EBADF:when=${point?.nth}`], argv);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(
        `failed to take over the TAP fd bridge helper ${helper} sent (fcntl(F_GETFL)): Bad file descriptor (EBADF)`,
      );
      expect(result.stderr).not.toContain("not a TAP device");
    });
  }, 60_000);

  test("relay mode: exit statistics that cannot be read after the guest exited leave the guest's status", async () => {
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const argv = [launcher, `--helper=${helper}`, "--relay=stream", "--", "sh", "-c", "exit 7"];
      const opens = (await traceOf(ns, ["openat"], argv)).filter((line) => line.startsWith("openat("));
      const nth = opens.findIndex((line) => line.includes("/proc/self/net/dev")) + 1;
      expect(nth).toBeGreaterThan(0);
      const result = await strace(ns, ["-o", "/dev/null", "-e", "trace=openat", "-e", `inject=openat:error=EIO:when=${nth}`], argv);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expect(result.exitCode).toBe(7);
    });
  }, 60_000);
});
