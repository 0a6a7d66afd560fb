// errnoName's table against the kernel's own headers, installed with libc6-dev (linux-libc-dev).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { errnoName } from "../../shared/errno.ts";

/** `#define ENAME number` lines of the asm-generic headers (aliases such as EWOULDBLOCK name another define, not a number). */
function kernelErrnoNames(): Map<number, string> {
  const names = new Map<number, string>();
  for (const header of ["errno-base.h", "errno.h"]) {
    const text = readFileSync(`/usr/include/asm-generic/${header}`, "latin1");
    for (const [, name = "", value = ""] of text.matchAll(/^#define\s+(E[A-Z0-9]+)\s+([0-9]+)\b/gm)) names.set(Number(value), name);
  }
  return names;
}

test("every errno the kernel defines has its header's name; the numbers it leaves out read E<number>", () => {
  const kernel = kernelErrnoNames();
  expect(kernel.size).toBeGreaterThan(120);
  for (let errno = 1; errno <= 140; errno += 1) expect(errnoName(errno)).toBe(kernel.get(errno) ?? `E${errno}`);
  expect(errnoName(0)).toBe("E0");
});
