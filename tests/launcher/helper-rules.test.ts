// The launcher runs its helper with QEMU's rules: command forms, --br= handling, closed fds, failures.
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { helperCommand } from "../../launcher/bridge-helper.ts";
import { buildWithAcl } from "../support/build.ts";
import { run } from "../support/proc.ts";
import { sharedFolder } from "../support/users.ts";

const dir = sharedFolder("tl-fake-");
const record = join(dir, "record");
let launcher = "";

/** A fake helper (shell script) whose body runs after it has recorded its argv and open fds. */
function fakeHelper(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > ${record}.argv\nls /proc/$$/fd > ${record}.fds\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function launch(helper: string, bridge = "brx", options: { extraFd?: number } = {}) {
  const stdio: ("inherit" | "pipe" | "ignore" | number)[] = ["ignore", "pipe", "pipe"];
  if (options.extraFd !== undefined) stdio.push(options.extraFd);
  const child = Bun.spawn({
    cmd: [launcher, `--br=${bridge}`, `--helper=${helper}`, "--", "true"],
    stdio: stdio as ["ignore", "pipe", "pipe"],
  });
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  return { stderr, exitCode };
}

const recordedArgv = () => readFileSync(`${record}.argv`, "utf8").trim().split("\n");

beforeAll(async () => {
  launcher = join(await buildWithAcl("/etc/qemu/bridge.conf"), "tap-launcher");
});

describe("helperCommand: QEMU's net_bridge_run_helper rules", () => {
  test("a path is run directly: HELPER --use-vnet --fd=3 --br=BRIDGE", () => {
    expect(helperCommand("/usr/libexec/h", "br7")).toEqual(["/usr/libexec/h", "--use-vnet", "--fd=3", "--br=br7"]);
  });
  test("a string with a space runs under /bin/sh -c with --br= added", () => {
    expect(helperCommand("/usr/libexec/h -x", "br7")).toEqual(["/bin/sh", "-c", "/usr/libexec/h -x --use-vnet --fd=3 --br=br7"]);
  });
  test("a string with a tab too", () => {
    expect(helperCommand("/usr/libexec/h\t-x", "br7")).toEqual(["/bin/sh", "-c", "/usr/libexec/h\t-x --use-vnet --fd=3 --br=br7"]);
  });
  test("a string that has --br= already gets no second one", () => {
    expect(helperCommand("/usr/libexec/h --br=mine", "br7")).toEqual(["/bin/sh", "-c", "/usr/libexec/h --br=mine --use-vnet --fd=3 "]);
  });
});

describe("running the helper", () => {
  test("a helper that writes 8 MiB before failing: what is kept to quote stays bounded (64 KiB per stream)", async () => {
    const helper = fakeHelper("chatty", "head -c 8388608 /dev/zero | tr '\\0' x >&2\nexit 1");
    const { stderr, exitCode } = await launch(helper);
    expect(exitCode).toBe(1);
    expect(stderr).toContain(`bridge helper ${helper} failed (exit status 1) for bridge brx: xxxx`);
    expect(stderr.length).toBeGreaterThan(65536);
    expect(stderr.length).toBeLessThan(2 * 65536);
  });

  test("a helper that leaves a process holding its stdout and stderr: its failure is reported at once, not when that process ends", async () => {
    const helper = fakeHelper("leaves-child", `sleep 60 >&2 & echo $! > ${record}.child\necho "no bridge for you" >&2\nexit 1`);
    try {
      const started = Date.now();
      const child = Bun.spawn({ cmd: [launcher, "--br=brx", `--helper=${helper}`, "--", "true"], stdio: ["ignore", "pipe", "pipe"] });
      const bound = setTimeout(() => child.kill("SIGKILL"), 20_000); // far below the 60 s the process holds the pipes
      const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      clearTimeout(bound);
      expect(child.signalCode).toBe(null);
      expect(exitCode).toBe(1);
      expect(stderr).toContain(`bridge helper ${helper} failed (exit status 1) for bridge brx: no bridge for you`);
      console.log(`reported after ${Date.now() - started} ms`);
    } finally {
      process.kill(Number(readFileSync(`${record}.child`, "utf8")), "SIGKILL");
    }
  }, 30_000);
  test("the arguments it really receives, by path and by shell command", async () => {
    const helper = fakeHelper("argv", "exit 1");
    await launch(helper, "br5");
    expect(recordedArgv()).toEqual(["--use-vnet", "--fd=3", "--br=br5"]);
    await launch(`${helper} --extra`, "br5");
    expect(recordedArgv()).toEqual(["--extra", "--use-vnet", "--fd=3", "--br=br5"]);
    await launch(`${helper}\t--br=given`, "br5");
    expect(recordedArgv()).toEqual(["--br=given", "--use-vnet", "--fd=3"]);
  });

  test("every other fd is closed in the helper, even one the launcher inherited", async () => {
    // exec, so that no shell descriptors are counted; ls's own listing fd points into /proc.
    const helper = fakeHelper("fds", `exec ls -l /proc/self/fd > ${record}.fds`);
    const extra = openSync(join(dir, "extra-inherited-by-the-launcher"), "w");
    try {
      await launch(helper, "br5", { extraFd: extra });
    } finally {
      closeSync(extra);
    }
    const fds = readFileSync(`${record}.fds`, "utf8")
      .split("\n")
      .map((line) => /(\d+) -> (.*)$/.exec(line))
      .filter((match) => match !== null && !match[2]?.startsWith("/proc/"))
      .map((match) => `${match?.[1]} ${match?.[2]?.replace(/\[\d+\]/, "")}`);
    expect(fds).toEqual(["0 /dev/null", `1 ${record}.fds`, "2 socket:", "3 socket:"]);
  });

  test("a failing helper: exit 1 and its own message", async () => {
    const outcome = await launch(fakeHelper("fails", "echo 'no bridge for you' >&2; exit 1"));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain("failed (exit status 1) for bridge brx: no bridge for you");
  });

  test("a helper's error and its hint stay two lines, as QEMU and libvirt show them, not glued with a space", async () => {
    const helper = fakeHelper(
      "two-lines",
      [
        "echo 'tap-bridge-helper: access denied by policy file: rule \"* all 1\" at /p:1 limits you to 1 on bridge brx: 1 in use (tap0)' >&2",
        "echo 'tap-bridge-helper: stop a VM that uses one of these TAPs' >&2",
        "exit 1",
      ].join("\n"),
    );
    const { stderr, exitCode } = await launch(helper);
    expect(exitCode).toBe(1);
    const lines = stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `tap-launcher: bridge helper ${helper} failed (exit status 1) for bridge brx: access denied by policy file: rule "* all 1" at /p:1 limits you to 1 on bridge brx: 1 in use (tap0)`,
    );
    expect(lines[1]).toBe("tap-launcher: stop a VM that uses one of these TAPs");
    expect(lines[2]).toStartWith("tap-launcher: the helper's ACL or policy does not allow this to you");
    expect(stderr).not.toContain("(tap0) stop");
  });

  test("a helper that never finishes (a name service that never answers): stopped at the deadline, said so, nothing left running", async () => {
    const helper = fakeHelper("hangs", `echo $$ > ${record}.pid\nexec sleep 600`);
    const started = Date.now();
    const { stderr, exitCode } = await launch(helper);
    const waited = Date.now() - started;
    expect(exitCode).toBe(1);
    expect(stderr).toContain(`tap-launcher: bridge helper ${helper} did not finish within 75 s for bridge brx, so it was stopped`);
    expect(stderr).toContain("getent group");
    expect(waited).toBeGreaterThanOrEqual(75_000);
    const pid = Number(readFileSync(`${record}.pid`, "utf8"));
    expect(() => process.kill(pid, 0)).toThrow();
    console.log(`stopped after ${waited} ms`);
  }, 110_000);

  test("a helper that exits 0 without sending an fd", async () => {
    const outcome = await launch(fakeHelper("silent", "exit 0"));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain("exited 0 without sending a TAP fd for bridge brx");
    expect(outcome.stderr).toContain("QEMU would have taken fd 0");
  });

  test("a helper killed by a signal", async () => {
    const outcome = await launch(fakeHelper("killed", "kill -KILL $$"));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain("was killed by SIGKILL for bridge brx");
  });

  test("a helper that is not there", async () => {
    const outcome = await launch(join(dir, "missing-helper"));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain(`cannot run bridge helper ${join(dir, "missing-helper")}: ENOENT`);
    expect(outcome.stderr).toContain("tap-launcher install");
  });

  test("a helper that sends an fd which is not a TAP", async () => {
    const helper = `${process.execPath} ${join(import.meta.dir, "../support/fake-helper-sends.ts")}`;
    const outcome = await launch(helper);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(/sent an fd that is not a TAP device: Inappropriate ioctl for device \(ENOTTY\)/);
  });
});

describe("the command line", () => {
  for (const [args, message] of [
    [["--br=br0"], /no guest command: put it after --/],
    [["--unmanaged", "--", "true"], /--unmanaged needs --tap=NAME/],
    [["--tap=tap0", "--", "true"], /--tap=NAME opens an existing TAP only with --unmanaged/],
  ] as const) {
    test(args.join(" "), async () => {
      const outcome = await run([launcher, ...args]);
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stderr).toMatch(message);
    });
  }
});
