// The relay's counters on SIGUSR1 reach exactly one launcher: the pid it prints, not a pgrep pattern that also hits wrappers.
import { beforeAll, expect, test } from "bun:test";
import { buildAllowingBr0 } from "../support/build.ts";
import { withNetns } from "../support/netns.ts";

let launcher = "";
let helper = "";

beforeAll(async () => {
  ({ launcher, helper } = await buildAllowingBr0());
});

test("the relay says its own pid; SIGUSR1 to it prints the counters, and a `timeout` wrapped around it is untouched", async () => {
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const child = Bun.spawn({
      cmd: [...ns.prefix(), "timeout", "60", launcher, `--helper=${helper}`, "--relay=stream", "--", "sleep", "2"],
      stdio: ["ignore", "ignore", "pipe"],
    });
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    let stderr = "";
    let pid = 0;
    while (pid === 0) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
      pid = Number(/kill -USR1 (\d+) prints its counters/.exec(stderr)?.[1] ?? 0);
    }
    expect(stderr).toMatch(/^tap-launcher: relaying tap\d+ to fd 3 of sleep \(stream\); kill -USR1 \d+ prints its counters$/m);
    // The pid is the launcher's own: its executable, not the wrapper's.
    const { readlinkSync } = await import("node:fs");
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(launcher);
    process.kill(pid, "SIGUSR1");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
    }
    expect(await child.exited).toBe(0); // the guest's status through timeout: the wrapper was not signalled
    expect(stderr).toMatch(/tap-launcher: .*tap -> guest[^\n]*\ntap-launcher: guest -> tap/);
  });
}, 60_000);
