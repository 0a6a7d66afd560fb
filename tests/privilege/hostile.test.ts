// A hostile unprivileged caller against the installed helper, in both modes: environment, directory,
// arguments, fds and ACL tricks. Each attempt: no code runs with privilege, no TAP is left, and where
// the helper refuses, exit 1 with a clear message. Controls show each payload does run when the shim
// is bypassed, so "no marker" means the shim stopped it.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { O_CLOEXEC } from "../../shared/kernel.ts";
import { closeFd } from "../../shared/libc.ts";
import { openPipe } from "../../shared/libc-launcher.ts";
import { runHelper } from "../support/helper-run.ts";
import { installForTest, type TestInstall } from "../support/install.ts";
import { withNetns } from "../support/netns.ts";
import { run, runOk } from "../support/proc.ts";
import { ALICE, asUser, BOB, LAB_GROUP, sharedFolder, withOpenTunDevice, type TestUser } from "../support/users.ts";

// Where payloads leave marks: `ran` is writable by everyone (did any payload code run at all?);
// `root-only` only by root (did it run with privilege?).
const marks = sharedFolder("tl-marks-");
const ranDir = join(marks, "ran");
const rootOnlyDir = join(marks, "root-only");
mkdirSync(ranDir, { mode: 0o1777 });
chmodSync(ranDir, 0o1777);
mkdirSync(rootOnlyDir, { mode: 0o755 });

const evil = sharedFolder("tl-evil-");
const payload = join(evil, "payload.js");
writeFileSync(
  payload,
  `const fs = require("fs");
try { fs.writeFileSync(${JSON.stringify(ranDir)} + "/js-" + process.pid, "uid " + process.getuid()); } catch {}
try { fs.writeFileSync(${JSON.stringify(rootOnlyDir)} + "/pwned-" + process.pid, "x"); } catch {}
`,
  { mode: 0o644 },
);
const evilSo = join(evil, "evil.so");
const libDir = join(evil, "lib");

/** A working directory owned by the attacker with every file Bun might read from it. */
const attackerCwd = join(evil, "cwd");
const attackerHome = join(evil, "home");

function marksLeft(): string[] {
  return [...readdirSync(ranDir), ...readdirSync(rootOnlyDir)];
}

beforeAll(async () => {
  const source = join(evil, "evil.c");
  writeFileSync(
    source,
    `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void mark(void) {
  char path[512];
  snprintf(path, sizeof path, "%s/so-%d", ${JSON.stringify(ranDir)}, (int)getpid());
  close(open(path, O_CREAT | O_WRONLY, 0644));
  snprintf(path, sizeof path, "%s/pwned-so-%d", ${JSON.stringify(rootOnlyDir)}, (int)getpid());
  close(open(path, O_CREAT | O_WRONLY, 0644));
}
`,
  );
  await runOk(["cc", "-shared", "-fPIC", "-o", evilSo, source]);
  chmodSync(evilSo, 0o755);
  mkdirSync(libDir, { mode: 0o755 });
  writeFileSync(join(libDir, "libc.so.6"), Bun.file(evilSo).size > 0 ? await Bun.file(evilSo).bytes() : "", { mode: 0o755 });
  for (const dir of [attackerCwd, attackerHome]) {
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, "bunfig.toml"), `preload = [${JSON.stringify(payload)}]\n`);
    writeFileSync(join(dir, ".bunfig.toml"), `preload = [${JSON.stringify(payload)}]\n`);
    writeFileSync(join(dir, ".env"), `BUN_OPTIONS=--preload ${payload}\nNODE_OPTIONS=--require ${payload}\n`);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { paths: { "*": [payload] } } }));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "evil", type: "commonjs", main: payload, imports: { "#x": payload } }));
    chownSync(dir, ALICE.uid, ALICE.gid);
  }
});

afterEach(() => {
  for (const dir of [ranDir, rootOnlyDir]) for (const name of readdirSync(dir)) rmSync(join(dir, name));
});

describe("controls: each payload runs when the shim is bypassed", () => {
  let installed: TestInstall;
  beforeAll(async () => {
    installed = await installForTest("setuid");
  });
  afterAll(() => installed.uninstall());

  test("BUN_OPTIONS=--preload on the Bun helper itself runs the payload", async () => {
    await run([...asUser(ALICE), installed.helper, "--help"], { env: { BUN_OPTIONS: `--preload ${payload}`, PATH: "/usr/bin:/bin" } });
    expect(readdirSync(ranDir).length).toBe(1);
  });
  test("BUN_BE_BUN=1 -e on the Bun helper itself runs code", async () => {
    await run([...asUser(ALICE), installed.helper, "-e", `require(${JSON.stringify(payload)})`], {
      env: { BUN_BE_BUN: "1", PATH: "/usr/bin:/bin" },
    });
    expect(readdirSync(ranDir).length).toBe(1);
  });
  test("LD_PRELOAD runs the library's constructor in an ordinary program", async () => {
    await run([...asUser(ALICE), "/bin/true"], { env: { LD_PRELOAD: evilSo } });
    expect(readdirSync(ranDir).length).toBe(1);
  });
});

interface Attempt {
  name: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** What fd 3 is: the socket (default), a file, a pipe, or nothing. */
  fd3?: "socket" | "file" | "pipe" | "none";
  /** null: the helper must succeed; else its stderr must match and it must exit 1. */
  refusal: RegExp | null;
  /** A warning the helper must print while succeeding (else its stderr must be empty). */
  warning?: RegExp;
  /** What the attacker puts in argv[0] (bash's exec -a). */
  argv0?: string;
}

const valid = ["--use-vnet", "--fd=3", "--br=br0"];
const ENV_AND_DIRECTORY: Attempt[] = [
  { name: "BUN_OPTIONS=--preload", args: valid, env: { BUN_OPTIONS: `--preload ${payload}` }, refusal: null },
  {
    name: "BUN_BE_BUN=1 with -e CODE",
    args: ["-e", `require(${JSON.stringify(payload)})`],
    env: { BUN_BE_BUN: "1" },
    refusal: /unknown argument "-e"/,
  },
  { name: "BUN_BE_BUN=1 with valid arguments", args: valid, env: { BUN_BE_BUN: "1" }, refusal: null },
  {
    name: "argv[0] set to bun, with -e CODE",
    args: ["-e", `require(${JSON.stringify(payload)})`],
    argv0: "bun",
    refusal: /unknown argument "-e"/,
  },
  { name: "NODE_OPTIONS=--require", args: valid, env: { NODE_OPTIONS: `--require ${payload}` }, refusal: null },
  { name: "LD_PRELOAD", args: valid, env: { LD_PRELOAD: evilSo }, refusal: null },
  { name: "LD_LIBRARY_PATH with a false libc.so.6", args: valid, env: { LD_LIBRARY_PATH: libDir }, refusal: null },
  {
    name: "HOME, XDG_CONFIG_HOME and TMPDIR with a .bunfig.toml",
    args: valid,
    env: { HOME: attackerHome, XDG_CONFIG_HOME: attackerHome, TMPDIR: attackerHome },
    refusal: null,
  },
  { name: "bunfig.toml, .env, tsconfig.json and package.json in the current directory", args: valid, cwd: attackerCwd, refusal: null },
];
const ARGUMENTS: Attempt[] = [
  { name: "an extra argument", args: [...valid, "--extra"], refusal: /unknown argument "--extra"/ },
  { name: "a repeated --br", args: [...valid, "--br=br1"], refusal: /--br given more than once/ },
  { name: "a repeated --fd", args: [...valid, "--fd=4"], refusal: /--fd given more than once/ },
  { name: "a repeated --use-vnet", args: [...valid, "--use-vnet"], refusal: /--use-vnet given more than once/ },
  { name: "a bridge name with /", args: ["--fd=3", "--br=../br0"], refusal: /invalid bridge name "..\/br0"/ },
  { name: "the bridge name ..", args: ["--fd=3", "--br=.."], refusal: /invalid bridge name "..": `.` and `..`/ },
  { name: "a bridge name with %d", args: ["--fd=3", "--br=br%d"], refusal: /invalid bridge name "br%d": it contains/ },
  { name: "a bridge name with a newline", args: ["--fd=3", "--br=br\n0"], refusal: /invalid bridge name "br\\n0": only printable ASCII/ },
  {
    name: "a bridge name of 16 bytes",
    args: ["--fd=3", "--br=abcdefghijklmnop"],
    refusal: /it is 16 bytes long and the kernel allows at most 15/,
  },
  { name: "an empty bridge name", args: ["--fd=3", "--br="], refusal: /invalid bridge name "": it is empty/ },
  { name: "--fd pointing at a regular file", args: valid, fd3: "file", refusal: /failed to use --fd=3: .*ENOTSOCK[\s\S]*not a socket/ },
  { name: "--fd pointing at a pipe", args: valid, fd3: "pipe", refusal: /failed to use --fd=3: .*ENOTSOCK/ },
  {
    name: "--fd pointing at a closed fd",
    args: ["--use-vnet", "--fd=9", "--br=br0"],
    refusal: /failed to use --fd=9: Bad file descriptor \(EBADF\)/,
  },
  // Closed in the caller, but the runtime's own dup of stderr (a socket here) in the helper.
  // Whether the runtime has fd 7 open (a copy of stderr, say) depends on what it loaded: either way it is refused.
  ...[4, 5, 7].map((fd) => ({
    name: `--fd=${fd}, an fd the helper's runtime may have opened`,
    args: ["--use-vnet", `--fd=${fd}`, "--br=br0"],
    refusal: new RegExp(
      `--fd=${fd} is the same file as the helper's standard (error|output)|failed to use --fd=${fd}: .*\\((EBADF|ENOTSOCK)\\)|--fd=${fd} is not a unix socket`,
    ),
  })),
  { name: "--fd pointing at stdin", args: ["--use-vnet", "--fd=0", "--br=br0"], refusal: /--fd=0 is standard input/ },
];

/**
 * Runs the installed shim as `user` in a fresh namespace. The hostile environment and directory are
 * applied by the attacker's own last step (`env -i -C DIR VARS… shim`), never to the root tools before it.
 */
async function attempt(
  installed: TestInstall,
  user: TestUser,
  bridge: string,
  spec: Attempt,
): Promise<{ exitCode: number; stderr: string }> {
  return withNetns(async (ns) => {
    for (const name of ["br0", "br1", "brlab"]) await ns.addBridge(name);
    const env = Object.entries({ PATH: "/usr/bin:/bin", ...spec.env }).map(([key, value]) => `${key}=${value}`);
    const args = spec.args.map((arg) => (arg === "--br=br0" ? `--br=${bridge}` : arg));
    const exec =
      spec.argv0 === undefined ? [installed.shim, ...args] : ["bash", "-c", `exec -a ${spec.argv0} "$0" "$@"`, installed.shim, ...args];
    const cmd = [...ns.prefix(), ...withOpenTunDevice(), ...asUser(user), "env", "-i", "-C", spec.cwd ?? "/", ...env, ...exec];
    let fd3: number | "none" | undefined;
    let close = () => {};
    if (spec.fd3 === "file") {
      const fd = openSync(payload, "r");
      fd3 = fd;
      close = () => closeSync(fd);
    } else if (spec.fd3 === "pipe") {
      const [readEnd, writeEnd] = openPipe(O_CLOEXEC);
      fd3 = readEnd;
      close = () => {
        closeFd(readEnd);
        closeFd(writeEnd);
      };
    }
    try {
      const outcome = await runHelper(cmd, fd3 === undefined ? {} : { fd3 });
      if (outcome.fd !== null) closeFd(outcome.fd);
      expect(await ns.tapNames()).toEqual([]);
      expect(marksLeft()).toEqual([]);
      if (spec.refusal === null) {
        if (spec.warning === undefined) expect(outcome.stderr).toBe("");
        else expect(outcome.stderr).toMatch(spec.warning);
        expect(outcome.exitCode).toBe(0);
        expect(outcome.fd).not.toBeNull();
      } else {
        expect(outcome.stderr).toMatch(spec.refusal);
        expect(outcome.exitCode).toBe(1);
        expect(outcome.fd).toBeNull();
      }
      return outcome;
    } finally {
      close();
    }
  });
}

for (const mode of ["setuid", "caps"] as const) {
  describe(`hostile caller, ${mode} mode`, () => {
    let installed: TestInstall;
    beforeAll(async () => {
      installed = await installForTest(mode);
    });
    afterAll(() => installed.uninstall());

    for (const spec of [...ENV_AND_DIRECTORY, ...ARGUMENTS]) {
      test(spec.name, async () => {
        await attempt(installed, ALICE, "br0", spec);
      });
    }

    test("an include of a file the caller cannot read is skipped; its rules and content stay hidden", async () => {
      const secret = join(sharedFolder("tl-secret-"), "secret.conf");
      writeFileSync(secret, "allow all\n# SECRET-TOKEN\n", { mode: 0o600 });
      installed.setAcl(`allow br0\ninclude ${secret}\n`);
      try {
        const outcome = await attempt(installed, ALICE, "br1", {
          name: "",
          args: valid,
          refusal: /access denied by acl file: no allow rule matches bridge br1/,
        });
        expect(outcome.stderr).toContain(`skipped include ${secret}: EACCES`);
        expect(outcome.stderr).not.toContain("SECRET-TOKEN");
      } finally {
        installed.setAcl("allow br0\n");
      }
    });

    test("an include through a symlink to a root-only file is read with the caller's rights", async () => {
      const folder = sharedFolder("tl-secret-");
      const secret = join(folder, "shadow");
      writeFileSync(secret, "allow all\nSECRET-TOKEN\n", { mode: 0o600 });
      symlinkSync(secret, join(folder, "link.conf"));
      installed.setAcl(`allow br0\ninclude ${join(folder, "link.conf")}\n`);
      try {
        const outcome = await attempt(installed, ALICE, "br1", { name: "", args: valid, refusal: /access denied by acl file/ });
        expect(outcome.stderr).toContain("EACCES");
        expect(outcome.stderr).not.toContain("SECRET-TOKEN");
      } finally {
        installed.setAcl("allow br0\n");
      }
    });

    test("an include loop is followed once and reported; the decision stands", async () => {
      const loop = join(sharedFolder("tl-loop-"), "loop.conf");
      writeFileSync(loop, `include ${loop}\nallow br1\n`, { mode: 0o644 });
      installed.setAcl(`include ${loop}\n`);
      try {
        await attempt(installed, ALICE, "br1", { name: "", args: valid, refusal: null, warning: /skipped include .*: include loop/ });
        const denied = await attempt(installed, ALICE, "br0", { name: "", args: valid, refusal: /no allow rule matches bridge br0/ });
        expect(denied.stderr).toContain(`${loop}:1: skipped include ${loop}: include loop`);
      } finally {
        installed.setAcl("allow br0\n");
      }
    });

    test("a symlinked main ACL file is followed, as the original does", async () => {
      const target = join(sharedFolder("tl-acltarget-"), "real.conf");
      writeFileSync(target, "allow brlab\n", { mode: 0o644 });
      rmSync(installed.aclFile);
      symlinkSync(target, installed.aclFile);
      try {
        await attempt(installed, ALICE, "brlab", { name: "", args: valid, refusal: null });
      } finally {
        rmSync(installed.aclFile);
        installed.setAcl("allow br0\n");
      }
    });

    test("per-group include: a rule readable only by one group allows its member and not another user", async () => {
      const lab = join(sharedFolder("tl-lab-"), "lab.conf");
      writeFileSync(lab, "allow brlab\n");
      chownSync(lab, 0, LAB_GROUP);
      chmodSync(lab, 0o640);
      installed.setAcl(`allow br0\ninclude ${lab}\n`);
      try {
        await attempt(installed, ALICE, "brlab", { name: "", args: valid, refusal: null });
        const bob = await attempt(installed, BOB, "brlab", {
          name: "",
          args: valid,
          refusal: /access denied by acl file: no allow rule matches bridge brlab/,
        });
        expect(bob.stderr).toContain(`skipped include ${lab}: EACCES`);
      } finally {
        installed.setAcl("allow br0\n");
      }
    });
  });
}
