// The launcher's command line: strict for every command, nothing done on a bad one, --help fit for a pipe.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkArgv } from "../../launcher/argv.ts";
import { UsageError } from "../../shared/errors.ts";
import { runArgs } from "../../launcher/commands/run.ts";
import { ROOT, tempFolder } from "../support/build.ts";
import { run, type RunResult } from "../support/proc.ts";

/**
 * The launcher from source, with the environment of a user's shell (citty colours unless TEST or CI is
 * set), in a network namespace of its own that ends with it: a launcher that wrongly accepted the
 * command line could look for a TAP, and must not see the host's.
 */
function launch(args: string[]): Promise<RunResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm" };
  return run(["unshare", "-n", process.execPath, join(ROOT, "launcher/main.ts"), ...args], { env });
}

/**
 * A folder with a stand-in bridge helper that only records that it ran (and fails, so no TAP is ever
 * made), and a guest command that records that it ran.
 */
function witnesses(): { helper: string; helperRan: string; guest: string[]; guestRan: string } {
  const folder = tempFolder("tl-cli-");
  const helper = join(folder, "helper");
  const helperRan = join(folder, "helper-ran");
  const guestRan = join(folder, "guest-ran");
  writeFileSync(helper, `#!/bin/sh\necho "$@" >> ${helperRan}\nexit 1\n`);
  chmodSync(helper, 0o755);
  return { helper, helperRan, guest: ["sh", "-c", `echo "$@" > ${guestRan}`, "sh"], guestRan };
}

/** Exactly the two lines of a usage error: what is wrong, and the usage. */
function expectUsageError(result: RunResult, message: RegExp, usage = "tap-launcher [OPTIONS] -- guest-cmd [args...]"): void {
  expect(result.exitCode).toBe(1);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toStartWith(`tap-launcher: usage: ${usage} (`);
  expect(result.stdout).toBe("");
}

describe("run refuses a command line it does not fully understand, and does nothing", () => {
  for (const [label, options, message] of [
    ["unknown options", ["--bridge=br1", "--relay-mode=dgram", "--queues=2"], /^tap-launcher: unknown option "--bridge"$/],
    ["--queues out of range", ["--queues=17"], /^tap-launcher: --queues must be a number of queues from 1 to 16, not "17"$/],
    ["--queues that is no number", ["--queues=two"], /^tap-launcher: --queues must be a number of queues from 1 to 16, not "two"$/],
    [
      "--queues above 1 with --relay",
      ["--queues=2", "--relay=stream"],
      /^tap-launcher: --relay carries one queue: --queues=2 works only when the guest gets the TAP itself \(leave out --relay\)$/,
    ],
    ["citty's negated form", ["--no-verbose"], /^tap-launcher: unknown option "--no-verbose"$/],
    ["grouped short switches", ["-vq"], /^tap-launcher: unknown option "-vq"$/],
    ["a camel-case spelling", ["--relayMode=dgram"], /^tap-launcher: unknown option "--relayMode"$/],
    ["a repeated option", ["--br=br1", "--br=br0"], /^tap-launcher: --br given more than once$/],
    ["a switch and its alias", ["-v", "--verbose"], /^tap-launcher: --verbose given more than once$/],
    [
      "a switch with a value",
      ["--verbose=no"],
      /^tap-launcher: --verbose is a switch and takes no value \("--verbose=no"\): give it alone, or leave it out$/,
    ],
    ["--unmanaged=no", ["--tap=tapu0", "--unmanaged=no"], /^tap-launcher: --unmanaged is a switch and takes no value \("--unmanaged=no"\)/],
    ["an empty value", ["--br="], /^tap-launcher: --br needs a value: --br=BRIDGE$/],
    ["a value that looks like an option", ["--br", "-v"], /^tap-launcher: --br needs a value: --br=BRIDGE$/],
    [
      "--br with an --unmanaged TAP",
      ["--tap=tapu0", "--unmanaged", "--br=br1"],
      /^tap-launcher: --br chooses what the bridge helper makes, so it does nothing with --unmanaged: give one or the other$/,
    ],
    ["an invalid TAP name", ["--tap=a/b", "--unmanaged"], /^tap-launcher: invalid TAP name "a\/b": it contains `\/`, `:` or `%`$/],
    ["a relay format that does not exist", ["--relay=raw"], /^tap-launcher: --relay must be stream or dgram, not "raw"$/],
    ["--relay without its value", ["--relay", "--"], /^tap-launcher: --relay needs a value: --relay=stream\|dgram$/],
    [
      "--pcap without --relay",
      ["--pcap=/tmp/x.pcap"],
      /^tap-launcher: --pcap is about the relay's frames: it works only with --relay=stream\|dgram$/,
    ],
    [
      "--pcap-size without --relay",
      ["--pcap-size=1M"],
      /^tap-launcher: --pcap-size is about the relay's frames: it works only with --relay=stream\|dgram$/,
    ],
    [
      "--stats without --relay",
      ["--stats=json"],
      /^tap-launcher: --stats is about the relay's frames: it works only with --relay=stream\|dgram$/,
    ],
    [
      "--pcap-size without --pcap",
      ["--relay=stream", "--pcap-size=1M"],
      /^tap-launcher: --pcap-size bounds the capture: it needs --pcap=FILE$/,
    ],
    ["a --stats format that does not exist", ["--relay=stream", "--stats=xml"], /^tap-launcher: --stats must be text or json, not "xml"$/],
    ...["0", "4095", "1025G", "1T", "1.5M", "-1", "1m", "0x1000", "01M", " 1M", "10000000000000"].map(
      (size) =>
        [
          `--pcap-size=${JSON.stringify(size)}`,
          ["--relay=stream", "--pcap=/tmp/x.pcap", `--pcap-size=${size}`],
          new RegExp(
            `^tap-launcher: --pcap-size must be a size in bytes from 4096 \\(4K\\) to 1024G, with K, M or G for powers of 1024, not ${JSON.stringify(size).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`,
          ),
        ] as const,
    ),
  ] as const) {
    test(label, async () => {
      const { helper, helperRan, guest, guestRan } = witnesses();
      // With --tap, --helper would itself be refused (it does nothing there).
      const helperOption = options.some((option) => option.startsWith("--tap=")) ? [] : [`--helper=${helper}`];
      const result = await launch([...helperOption, ...options, "--", ...guest]);
      expectUsageError(result, message);
      expect(existsSync(helperRan)).toBe(false);
      expect(existsSync(guestRan)).toBe(false);
    });
  }

  test("--br -- cmd: the -- is not swallowed as the bridge's name", async () => {
    const { helper, helperRan, guest, guestRan } = witnesses();
    const result = await launch([`--helper=${helper}`, "--br", "--", ...guest]);
    expectUsageError(result, /^tap-launcher: --br needs a value: --br=BRIDGE$/);
    expect(existsSync(helperRan)).toBe(false);
    expect(existsSync(guestRan)).toBe(false);
  });

  test("a guest command without --: the launcher's own message, not a page of help", async () => {
    const { helper, helperRan } = witnesses();
    const result = await launch([`--helper=${helper}`, "--br=br0", "sh", "-c", "true"]);
    expectUsageError(result, /^tap-launcher: unexpected argument "sh": the guest command goes after --, as in -- sh …$/);
    expect(result.stderr).not.toContain("Unknown command");
    expect(existsSync(helperRan)).toBe(false);
  });

  test("a command name after an option", async () => {
    const result = await launch(["-v", "doctor"]);
    expectUsageError(result, /^tap-launcher: the command doctor comes first: tap-launcher doctor \[OPTIONS\]$/);
  });

  test("the options are read in either form, and the helper gets the bridge given", async () => {
    const { helper, helperRan, guest } = witnesses();
    const result = await launch(["--helper", helper, "--br", "brx", "-q", "--", ...guest]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`bridge helper ${helper} failed (exit status 1) for bridge brx`);
    expect(await Bun.file(helperRan).text()).toBe("--use-vnet --fd=3 --br=brx\n");
  });

  test("everything after the first -- is the guest's: its --help, --br=… and -- are not read", async () => {
    const { helper, helperRan, guest } = witnesses();
    const result = await launch([`--helper=${helper}`, "--br=br0", "--", ...guest, "--help", "--br=br1", "--", "--bogus"]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`bridge helper ${helper} failed (exit status 1) for bridge br0`);
    expect(await Bun.file(helperRan).text()).toBe("--use-vnet --fd=3 --br=br0\n");
  });
});

describe("install, uninstall and doctor are as strict about their own options", () => {
  // An empty prefix and build folder: were a bad command line run anyway, it could change nothing.
  const scratch = tempFolder("tl-cli-prefix-");
  const prefix = `--prefix=${scratch}`;
  for (const [label, args, message, usage] of [
    ["doctor: an unknown option", ["doctor", "--bogus"], /^tap-launcher: unknown option "--bogus"$/, "tap-launcher doctor [OPTIONS]"],
    [
      "doctor: a repeated option",
      ["doctor", "--helper=/a", "--helper=/b"],
      /^tap-launcher: --helper given more than once$/,
      "tap-launcher doctor [OPTIONS]",
    ],
    ["doctor: a stray word", ["doctor", "now"], /^tap-launcher: unexpected argument "now"$/, "tap-launcher doctor [OPTIONS]"],
    [
      "doctor: a guest command",
      ["doctor", "--", "true"],
      /^tap-launcher: unexpected argument "--": this command takes no guest command$/,
      "tap-launcher doctor [OPTIONS]",
    ],
    [
      "install: a repeated option",
      ["install", prefix, `--from=${scratch}`, "--mode=caps", "--mode=setuid"],
      /^tap-launcher: --mode given more than once$/,
      "tap-launcher install [OPTIONS]",
    ],
    [
      "install: a mode that does not exist",
      ["install", prefix, `--from=${scratch}`, "--mode=suid"],
      /^tap-launcher: --mode must be setuid or caps, not "suid"$/,
      "tap-launcher install [OPTIONS]",
    ],
    [
      "install: a value that is --",
      ["install", prefix, `--from=${scratch}`, "--mode", "--"],
      /^tap-launcher: --mode needs a value: --mode=setuid\|caps$/,
      "tap-launcher install [OPTIONS]",
    ],
    [
      "uninstall: an unknown option",
      ["uninstall", prefix, "--prefx=/usr/local"],
      /^tap-launcher: unknown option "--prefx"$/,
      "tap-launcher uninstall [OPTIONS]",
    ],
    [
      "uninstall: a switch with a value",
      ["uninstall", prefix, "--quiet=1"],
      /^tap-launcher: --quiet is a switch and takes no value/,
      "tap-launcher uninstall [OPTIONS]",
    ],
    [
      "run, named: an unknown option",
      ["run", "--bridge=br1", "--", "true"],
      /^tap-launcher: unknown option "--bridge"$/,
      "tap-launcher run [OPTIONS] -- guest-cmd [args...]",
    ],
  ] as const) {
    test(label, async () => {
      expectUsageError(await launch([...args]), message, usage);
    });
  }
});

describe("--help", () => {
  test("written to a pipe: no colour codes, and the usage line shows where the guest command goes", async () => {
    const result = await launch(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain("\x1b");
    expect(result.stdout).toContain("USAGE tap-launcher [OPTIONS] -- guest-cmd [args...]\n");
    expect(result.stdout).toContain("--unmanaged");
    expect(result.stdout).toMatch(/^ +doctor +Check/m);
    expect(result.stderr).toBe("");
  });

  test("of a command: its own options, no colour in a pipe", async () => {
    const doctor = await launch(["doctor", "-h"]);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).not.toContain("\x1b");
    expect(doctor.stdout).toContain("USAGE tap-launcher doctor [OPTIONS]");
    expect(doctor.stdout).toContain("--helper");
    const runHelp = await launch(["run", "--help"]);
    expect(runHelp.stdout).toContain("USAGE tap-launcher run [OPTIONS] -- guest-cmd [args...]\n");
  });

  test("fits an 80-column terminal, the version on a line of its own, and doctor promises no counters", async () => {
    for (const argv of [["--help"], ["run", "--help"], ["install", "--help"], ["uninstall", "--help"], ["doctor", "--help"]]) {
      const result = await launch(argv);
      expect(result.exitCode).toBe(0);
      const long = result.stdout.split("\n").filter((line) => line.length > 80);
      expect({ argv, long }).toEqual({ argv, long: [] });
      expect(result.stdout).toMatch(/^tap-launcher( [a-z]+)? \d+\.\d+\.\d+\n\n/);
      expect(result.stdout).not.toMatch(/\S \(tap-launcher v/);
    }
    expect((await launch(["doctor", "--help"])).stdout).not.toContain("counters");
  });

  test("with an unknown option beside it: still a usage error", async () => {
    expectUsageError(await launch(["--bridge=br1", "--help"]), /^tap-launcher: unknown option "--bridge"$/);
  });
});

describe("checkArgv", () => {
  test("returns the options in one spelling and the guest's words untouched", () => {
    expect(checkArgv(["-v", "--br", "br1", "--relay=stream", "--", "qemu", "--br=x", "--", "-v"], runArgs, true)).toEqual({
      options: ["--verbose", "--br=br1", "--relay=stream"],
      guest: ["qemu", "--br=x", "--", "-v"],
      help: false,
      version: false,
    });
  });

  test("a value may start with - in the = form", () => {
    expect(checkArgv(["--helper=-x", "--"], runArgs, true).options).toEqual(["--helper=-x"]);
  });

  test("a required option must be given, except with --help", () => {
    const argsDef = { fd: { type: "string", required: true, valueHint: "N" } } as const;
    expect(() => checkArgv([], argsDef, false)).toThrow(new UsageError("missing --fd=N"));
    expect(checkArgv(["--help"], argsDef, false).help).toBe(true);
  });
});
