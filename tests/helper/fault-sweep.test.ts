// Issue 20 items 15 and 20: the helper made to fail at each of its own system calls (strace's inject=), and at its close()s in clean-up.
//
// Contracts, for every point: exit 1 with `tap-bridge-helper:` lines only, the first naming the step
// (or the fds sent and exit 0); never exit 0 without the fds; no TAP left in the namespace; no grant
// audit line for a TAP that was not sent unless a refusal line for it follows. The points are the
// helper's own calls (its main thread, from reading its credentials to its exit), not the runtime's
// start-up, and not memory or futex calls: failing those tests Bun, not the helper.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeFd } from "../../shared/libc.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { type HelperOutcome, runHelper } from "../support/helper-run.ts";
import { withNetns, type TestNetns } from "../support/netns.ts";
import { privateDevPrefix, SyslogSink } from "../support/syslog-sink.ts";

const POLICY = "root br0 4 queues=2\n";
const folder = tempFolder("tl-sweep-");
writeFileSync(join(folder, "bridge.conf"), "allow br0\n");
writeFileSync(join(folder, "policy.conf"), POLICY);
const helper = join(await buildWithAcl(join(folder, "bridge.conf"), join(folder, "policy.conf")), "tap-bridge-helper");
const log = new SyslogSink();
afterAll(() => log.close());

/** The calls swept: what the helper's own code makes (files, sockets, netlink, ioctls, the send, the audit line). */
const SWEPT = [
  "openat",
  "read",
  "write",
  "close",
  "ioctl",
  "socket",
  "connect",
  "sendmsg",
  "sendto",
  "getsockopt",
  "statx",
  "getdents64",
  "newfstatat",
  "lseek",
];
/** The request swept: with the policy file (audit, counts, names) and two queues; or as on most hosts, neither. */
let request = { args: ["--use-vnet", "--queues=2", "--fd=3", "--br=br0"], queues: 2 };

/** One call of the helper's main thread: its name, its number among that thread's calls of that name (strace's `when=`), and the line. */
interface Point {
  call: string;
  when: number;
  line: string;
}

function runTraced(ns: TestNetns, strace: string[]): Promise<HelperOutcome> {
  return runHelper([...ns.prefix(), ...privateDevPrefix(log.path), "strace", "-qq", "-f", ...strace, helper, ...request.args]);
}

/** The swept calls of a successful run, from the helper's listing of its threads (the credentials check) on. */
async function pointsOf(ns: TestNetns): Promise<Point[]> {
  const trace = join(tempFolder("tl-trace-"), "helper.trace");
  const outcome = await runTraced(ns, ["-o", trace, "-e", `trace=${SWEPT.join(",")}`]);
  for (const fd of outcome.fds) closeFd(fd);
  expect(outcome.exitCode).toBe(0);
  const lines = readFileSync(trace, "utf8").trimEnd().split("\n");
  const main = lines[0]?.split(" ")[0] ?? "";
  const seen = new Map<string, number>();
  const points: Point[] = [];
  let started = false;
  for (const raw of lines) {
    if (!raw.startsWith(`${main} `)) continue;
    const line = raw.slice(main.length).trim();
    const call = /^([a-z0-9_]+)\(/.exec(line)?.[1];
    if (call === undefined) continue; // a "<... resumed>" half
    const when = (seen.get(call) ?? 0) + 1;
    seen.set(call, when);
    started ||= /"\/proc\/self\/task"/.test(line);
    if (started) points.push({ call, when, line });
  }
  return points;
}

/** Every contract of one outcome; returns what broke, or null. */
async function brokenContract(ns: TestNetns, outcome: HelperOutcome, audit: string[]): Promise<string | null> {
  const sent = outcome.fds.length > 0;
  for (const fd of outcome.fds) closeFd(fd);
  const taps = await ns.tapNames();
  if (taps.length > 0) return `left ${taps.join(", ")} behind`;
  const lines = outcome.stderr
    .replace(/^strace: .*\n/gm, "")
    .split("\n")
    .slice(0, -1);
  if (lines.some((line) => !line.startsWith("tap-bridge-helper: "))) return `a line not the helper's: ${JSON.stringify(outcome.stderr)}`;
  const grants = audit.filter((line) => / grant /.test(line));
  if (outcome.exitCode === 0) {
    if (!sent || outcome.fds.length !== request.queues) return `exit 0 with ${outcome.fds.length} fds`;
    return grants.length === 1 || audit.length === 0 ? null : `sent, with audit lines ${JSON.stringify(audit)}`;
  }
  if (sent) return `exit ${outcome.exitCode} after sending the fds`;
  if (outcome.exitCode !== 1) return `exit ${outcome.exitCode}`;
  if (!/^tap-bridge-helper: (failed to|access denied|refusing to run|cannot|--fd=|gave up)/.test(lines[0] ?? "")) {
    return `the first line names no step: ${JSON.stringify(outcome.stderr)}`;
  }
  if (lines.length > 3) return `more than the step, its hint and one warning: ${JSON.stringify(outcome.stderr)}`;
  const lastGrant = audit.findLastIndex((line) => / grant /.test(line));
  if (lastGrant >= 0 && !audit.slice(lastGrant + 1).some((line) => / refuse /.test(line))) return "a grant line for a TAP not sent";
  return null;
}

/** Fails each swept call of a successful run in turn, and checks every contract at every point. */
async function sweep(): Promise<void> {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const points = await pointsOf(ns);
    // Without a policy file and with its files read through libc (no fstat or lseek of node:fs), a run makes ~40.
    expect(points.length).toBeGreaterThan(30);
    const broken: string[] = [];
    const outcomes = { sent: 0, refused: 0 };
    for (const point of points) {
      log.lines();
      const inject = `inject=${point.call}:error=EIO:when=${point.when}`;
      const outcome = await runTraced(ns, ["-o", "/dev/null", "-e", `trace=${point.call}`, "-e", inject]);
      outcomes[outcome.fds.length > 0 ? "sent" : "refused"] += 1;
      const problem = await brokenContract(ns, outcome, log.lines());
      if (problem !== null) broken.push(`${point.call} #${point.when} (${point.line.slice(0, 90)}): ${problem}`);
    }
    console.log(`fault sweep: ${points.length} points, ${outcomes.sent} still sent the fds, ${outcomes.refused} refused`);
    expect(broken).toEqual([]);
  });
}

/**
 * The two close() tests run as most hosts run the helper: no policy file, so no watchdog Worker whose
 * thread's calls would add to the trace. They name the close to fail by its number (strace's `when=`),
 * taken from a run before, and that number still drifts between runs now and then; so each reads
 * where its failure landed (strace marks the call "(INJECTED)") and aims again when it landed before
 * the step it aims past. The contract is checked on every run, aimed or not.
 */
function withoutPolicy(): void {
  request = { args: ["--use-vnet", "--fd=3", "--br=br0"], queues: 1 };
  rmSync(join(folder, "policy.conf"), { force: true });
}

/** Whether, on the main thread of `trace`, the failed close comes after the first line that `after` matches. */
function closeFailedAfter(trace: string, after: RegExp): boolean {
  const lines = readFileSync(trace, "utf8").trimEnd().split("\n");
  const main = lines[0]?.split(" ")[0] ?? "";
  const ours = lines.filter((line) => line.startsWith(`${main} `)).map((line) => line.slice(main.length).trim());
  const step = ours.findIndex((line) => after.test(line));
  const failed = ours.findIndex((line) => line.startsWith("close(") && line.includes("(INJECTED)"));
  return step >= 0 && failed > step;
}

const AIMS = 5;

/** Runs the helper with `inject(points)` until the failed close lands after `after` (at most AIMS runs), checking the contract each time. */
async function aimedRun(ns: TestNetns, after: RegExp, inject: (points: Point[]) => string[]): Promise<HelperOutcome> {
  for (let aim = 1; aim <= AIMS; aim += 1) {
    const points = await pointsOf(ns);
    const trace = join(tempFolder("tl-trace-"), "aimed.trace");
    log.lines();
    const outcome = await runTraced(ns, ["-o", trace, ...inject(points)]);
    if (closeFailedAfter(trace, after)) return outcome;
    expect(await brokenContract(ns, outcome, log.lines())).toBe(null);
  }
  throw new Error(`the failed close never landed after ${after} in ${AIMS} runs`);
}

describe("fault injection", () => {
  test("a close() that fails after the fds were sent: exit 0, the fds received, no stack trace", async () => {
    withoutPolicy();
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcome = await aimedRun(ns, /^sendmsg\(/, (points) => {
        const send = points.findIndex((point) => point.call === "sendmsg");
        const close = points.slice(send).find((point) => point.call === "close");
        expect(close).toBeDefined();
        return ["-e", "trace=sendmsg,close", "-e", `inject=close:error=EIO:when=${close?.when}`];
      });
      expect(outcome.stderr).toBe("");
      expect(outcome.exitCode).toBe(0);
      expect(await brokenContract(ns, outcome, log.lines())).toBe(null);
    });
  }, 60_000);

  test("a close() that fails in the clean-up after a failed step: the step's own message, exit 1, no TAP", async () => {
    withoutPolicy();
    await withNetns(async (ns) => {
      await ns.addBridge("br0");
      const outcome = await aimedRun(ns, /SIOCSIFMTU.*\(INJECTED\)/, (points) => {
        const mtu = points.find((point) => point.call === "ioctl" && point.line.includes("SIOCSIFMTU"));
        const closesBefore = points.filter((point, at) => point.call === "close" && at < points.indexOf(mtu ?? points[0] ?? point)).length;
        const first = points.find((point) => point.call === "close")?.when ?? 0;
        return [
          "-e",
          "trace=ioctl,close",
          "-e",
          `inject=ioctl:error=EPERM:when=${mtu?.when}`,
          "-e",
          `inject=close:error=EIO:when=${first + closesBefore}`,
        ];
      });
      expect(outcome.stderr).toStartWith(
        "tap-bridge-helper: failed to set mtu of device `tap0' to 1500: Operation not permitted (EPERM)\n",
      );
      expect(outcome.exitCode).toBe(1);
      expect(await brokenContract(ns, outcome, log.lines())).toBe(null);
    });
  }, 60_000);

  for (const config of ["a policy file and --queues=2", "no policy file and one queue"] as const) {
    test(`with ${config}, every call of a successful run made to fail in turn: every contract holds at every point`, async () => {
      const withPolicy = config.startsWith("a policy");
      request = withPolicy
        ? { args: ["--use-vnet", "--queues=2", "--fd=3", "--br=br0"], queues: 2 }
        : { args: ["--use-vnet", "--fd=3", "--br=br0"], queues: 1 };
      if (withPolicy) writeFileSync(join(folder, "policy.conf"), POLICY);
      else rmSync(join(folder, "policy.conf"), { force: true });
      try {
        await sweep();
      } finally {
        writeFileSync(join(folder, "policy.conf"), POLICY);
      }
    }, 600_000);
  }
});
