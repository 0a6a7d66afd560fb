// Fork-to-fd times of bridge helpers run the way QEMU runs them; started by relay-bench.ts inside its
// network namespace and a private /etc/qemu.
//   helper-timing.ts RUNS BRIDGE NAME=HELPER...   prints one JSON object: {NAME: [milliseconds, ...], ...}
//   helper-timing.ts burst COUNT BRIDGE HELPER    prints {"ms": time to serve all, "served": N, "failures": [...]}
// Runs alternate between the helpers. Each run: a socketpair, the helper spawned with one end as fd 3
// and `--use-vnet --br=BRIDGE --fd=3`, the clock stopped when the fd's message is readable. A HELPER
// written `exit:PATH` is a program that sends nothing (the runtime's floor): its clock stops at its exit.
// With TIMING_CPU=1 in the environment, each NAME also gets "NAME cpu": the CPU time (user and system, all
// threads) of each run, which other work on the machine inflates less than the time from fork to fd.
// A burst starts COUNT helpers at once and stops the clock when the last has exited; it closes every
// fd it received before it prints.
import { receiveFd } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { POLLIN, SOCK_STREAM } from "../../shared/kernel-launcher.ts";
import { closeFd, pollOneOrErrno } from "../../shared/libc.ts";
import { openSocketPair } from "../../shared/libc-launcher.ts";

/** A finished run: milliseconds from fork to its fd (or exit), and the CPU milliseconds it used. */
interface Run {
  ms: number;
  cpuMs: number;
}

const cpuMsOf = (child: Bun.Subprocess): number => {
  const usage = child.resourceUsage();
  return usage === undefined ? Number.NaN : Number(usage.cpuTime.user + usage.cpuTime.system) / 1000;
};

async function forkToExit(path: string): Promise<Run> {
  const started = performance.now();
  const child = Bun.spawn({ cmd: [path], stdio: ["ignore", "ignore", "ignore"] });
  if ((await child.exited) !== 0) throw new Error(`${path} failed`);
  return { ms: performance.now() - started, cpuMs: cpuMsOf(child) };
}

async function forkToFd(path: string, bridge: string): Promise<Run> {
  const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
  try {
    const started = performance.now();
    const child = Bun.spawn({ cmd: [path, "--use-vnet", `--br=${bridge}`, "--fd=3"], stdio: ["ignore", "ignore", "pipe", theirs] });
    closeFd(theirs);
    if (pollOneOrErrno(ours, POLLIN, 10_000) !== 1) throw new Error(`${path} sent nothing in 10 s`);
    const elapsed = performance.now() - started;
    const received = receiveFd(ours);
    const stderr = await new Response(child.stderr).text();
    if ((await child.exited) !== 0 || received.fd === null) throw new Error(`${path} failed: ${stderr}`);
    closeFd(received.fd);
    return { ms: elapsed, cpuMs: cpuMsOf(child) };
  } finally {
    closeFd(ours);
  }
}

/** `count` helpers at once: how long until the last exited, how many sent their fd, what the others said. */
async function burst(count: number, bridge: string, path: string): Promise<{ ms: number; served: number; failures: string[] }> {
  const started = performance.now();
  const runs = Array.from({ length: count }, async () => {
    const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      const child = Bun.spawn({ cmd: [path, "--use-vnet", `--br=${bridge}`, "--fd=3"], stdio: ["ignore", "ignore", "pipe", theirs] });
      closeFd(theirs);
      const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
      const received = exitCode === 0 ? receiveFd(ours).fd : null;
      return { fd: received, failure: received === null ? `exit ${exitCode}: ${stderr.trim()}` : null };
    } finally {
      closeFd(ours);
    }
  });
  const outcomes = await Promise.all(runs);
  const ms = performance.now() - started;
  for (const { fd } of outcomes) if (fd !== null) closeFd(fd);
  const failures = outcomes.flatMap(({ failure }) => (failure === null ? [] : [failure]));
  return { ms, served: count - failures.length, failures };
}

const [first = "7", ...rest] = process.argv.slice(2);
if (first === "burst") {
  const [count = "200", bridge = "br0", path = ""] = rest;
  console.log(JSON.stringify(await burst(Number(count), bridge, path)));
} else {
  const [bridge = "br0", ...named] = rest;
  const helpers = named.map((entry) => {
    const at = entry.indexOf("=");
    return { name: entry.slice(0, at), path: entry.slice(at + 1) };
  });
  const withCpu = process.env.TIMING_CPU === "1";
  const times: Record<string, number[]> = Object.fromEntries(
    helpers.flatMap(({ name }) => [[name, []], ...(withCpu ? [[`${name} cpu`, []]] : [])]),
  );
  for (let run = 0; run < Number(first); run += 1) {
    for (const { name, path } of helpers) {
      const { ms, cpuMs } = path.startsWith("exit:") ? await forkToExit(path.slice(5)) : await forkToFd(path, bridge);
      times[name]?.push(ms);
      times[`${name} cpu`]?.push(cpuMs);
    }
  }
  console.log(JSON.stringify(times));
}
