// Errors by layer: shared/ throws value and system errors, the CLIs turn a refused value into a usage error.
import { expect, test } from "bun:test";
import { createConsola, type LogObject } from "consola/core";
import { reportFailure } from "../../launcher/cli.ts";
import { checkUsage, SysError, systemReason, UsageError, ValueError } from "../../shared/errors.ts";
import { checkInterfaceName } from "../../shared/ifname.ts";

test("a refused interface name is a ValueError from shared/, not the CLI's UsageError", () => {
  const refuse = () => checkInterfaceName("a/b", "TAP name");
  expect(refuse).toThrow(ValueError);
  expect(refuse).not.toThrow(UsageError);
  expect(refuse).toThrow('invalid TAP name "a/b": it contains `/`, `:` or `%`');
});

test("checkUsage turns a ValueError into a UsageError with the same message, and lets anything else through", () => {
  expect(() => checkUsage(() => checkInterfaceName("", "bridge name"))).toThrow(new UsageError('invalid bridge name "": it is empty'));
  const other = new SysError("open", 2, "No such file or directory");
  expect(() =>
    checkUsage(() => {
      throw other;
    }),
  ).toThrow(other);
  expect(checkUsage(() => 7)).toBe(7);
});

test("systemReason takes the description a SysError keeps, even when it holds a colon", () => {
  const err = new SysError("recvmsg", 71, "netlink reply: too short", "fd 5");
  expect(err.description).toBe("netlink reply: too short");
  expect(systemReason(err)).toBe("netlink reply: too short (EPROTO)");
  expect(systemReason(new Error("plain"))).toBe("plain");
});

test("the launcher's reportFailure prints a ValueError met on the way and exits 1, without a stack trace", async () => {
  const lines: string[] = [];
  const log = createConsola({ reporters: [{ log: (entry: LogObject) => lines.push(`${entry.type}: ${entry.args.join(" ")}`) }] });
  const before = process.exitCode;
  try {
    await reportFailure(log, () => checkInterfaceName("tap:1", "TAP name"));
    expect(process.exitCode).toBe(1);
  } finally {
    // Bun ignores undefined here: put back 0, or the test run itself would exit 1.
    process.exitCode = before ?? 0;
  }
  expect(lines).toEqual(['error: invalid TAP name "tap:1": it contains `/`, `:` or `%`']);
});
