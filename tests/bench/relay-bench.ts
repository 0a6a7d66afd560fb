// `bun run bench`: the relay's CPU time per frame against two C reference relays, the helper's start
// against Debian's qemu-bridge-helper, and the launcher's start to the guest's exec. Run as root.
//
// Relays: every relay opens the same pre-made TAPs (tapb with a vnet header for stream, tapc without
// for dgram, both MTU 65521) in a throw-away network namespace and talks to the same C peer on fd 3.
// tap -> guest: bench-peer injects frames into the TAP as fast as it can and a guest-side sink reads
// them; guest -> tap: a guest-side source writes as fast as it can. Over one window the bench reads,
// at both ends, the relay's CPU time (utime + stime of all its threads, /proc/PID/stat) and the TAP's
// packet counters (/proc/PID/net/dev: TX for frames the relay took from the TAP, RX for frames it gave
// it), so both figures cover the same frames. CPU time per frame is the figure that counts on a small
// machine where source, sink and relay compete for CPU; frames/s is shown beside it. Each case runs
// BENCH_RUNS times (default 3), the relays alternating, and the median is shown with the spread.
// BENCH_SECONDS, BENCH_WARMUP, BENCH_SIZES (64,1500,65535), BENCH_DIRECTIONS (tap,guest) and
// BENCH_PARTS (relay,start; scale adds tests/bench/scale.ts) narrow a run. BENCH_BASELINE_LAUNCHER=PATH measures another tap-launcher build
// (an earlier commit's) beside this one in the same run, alternating with the others: a before/after figure. The
// start part takes that build's helper from the same folder (`bun run build` puts tap-bridge-helper beside the
// launcher); it is timed in a private /etc/qemu/bridge.conf that allows br0, so a build with the default ACL path works.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { buildWithAcl, removeTempFolders, tempFolder } from "../support/build.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";
import { median, scaleRows, spread } from "./scale.ts";

const root = resolve(import.meta.dir, "../..");
const work = tempFolder("tl-bench-");
const ns = `tl-bench-${process.pid}`;
/**
 * Seconds between a relay's start and its window. Bun compiles the relay's loop on background
 * threads during its first second or so, and that CPU time counts for the process: 2 s measure the
 * steady state (README, Speed, gives the 0.5 s figures too).
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const WINDOW = Number(process.env.BENCH_SECONDS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const START_RUNS = Number(process.env.BENCH_START_RUNS ?? 11);
const DIRECTIONS = (["tap -> guest", "guest -> tap"] as const).filter((d) =>
  (process.env.BENCH_DIRECTIONS ?? "tap,guest").split(",").includes(d.split(" ")[0] ?? ""),
);
/** BENCH_PARTS=relay,start,scale (default relay,start): which parts to run. */
const PARTS = (process.env.BENCH_PARTS ?? "relay,start").split(",");
const SIZES = (process.env.BENCH_SIZES ?? "64,1500,65535").split(",").map(Number);
/** USER_HZ: the unit of utime and stime in /proc/PID/stat. */
const TICKS_PER_SECOND = Number(
  Bun.spawnSync({ cmd: ["getconf", "CLK_TCK"] })
    .stdout.toString()
    .trim() || 100,
);

function sh(cmd: string[]): string {
  const result = Bun.spawnSync({ cmd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
const inNs = (cmd: string[]) => ["ip", "netns", "exec", ns, ...cmd];

/** The process's CPU seconds so far, all threads (fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** A TAP's packet counters as seen from the namespace `pid` lives in: frames received and sent. */
function tapPackets(pid: number, tap: string): { rx: number; tx: number } {
  const line = readFileSync(`/proc/${pid}/net/dev`, "latin1")
    .split("\n")
    .find((row) => row.trim().startsWith(`${tap}:`));
  const fields = line?.split(":")[1]?.trim().split(/\s+/).map(Number) ?? [];
  return { rx: fields[1] ?? 0, tx: fields[9] ?? 0 };
}

/** Waits until a relay holds `tap` (carrier up); otherwise stops it and fails with what it said. */
async function waitForCarrier(tap: string, relay: Bun.Subprocess<"ignore", "pipe" | "ignore", "pipe">): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (sh(["ip", "-n", ns, "-j", "link", "show", tap]).includes("LOWER_UP")) return;
    await Bun.sleep(10);
  }
  relay.kill("SIGKILL");
  throw new Error(`no relay attached to ${tap}: ${await new Response(relay.stderr).text()}`);
}

let launcher = "";
let helper = "";
const peer = join(work, "bench-peer");
const refRelay = join(work, "ref-relay");

type Mode = "stream" | "dgram";
type Direction = "tap -> guest" | "guest -> tap";
interface Relay {
  name: string;
  command: (mode: Mode, tap: string, guest: string[]) => string[];
}

const vnetOf = (mode: Mode) => (mode === "stream" ? "10" : "0");
const RELAYS: Relay[] = [
  {
    name: "tap-launcher",
    command: (mode, tap, guest) => [launcher, "--quiet", `--tap=${tap}`, "--unmanaged", `--relay=${mode}`, "--", ...guest],
  },
  { name: "C batched", command: (mode, tap, guest) => [peer, "pair", mode, refRelay, tap, mode, vnetOf(mode), "batched", "--", ...guest] },
  { name: "C naive", command: (mode, tap, guest) => [peer, "pair", mode, refRelay, tap, mode, vnetOf(mode), "naive", "--", ...guest] },
];
const baselineLauncher = process.env.BENCH_BASELINE_LAUNCHER;
if (baselineLauncher !== undefined) {
  RELAYS.push({
    name: "baseline",
    command: (mode, tap, guest) => [baselineLauncher, "--quiet", `--tap=${tap}`, "--unmanaged", `--relay=${mode}`, "--", ...guest],
  });
}

interface Sample {
  framesPerSecond: number;
  /** CPU nanoseconds per frame. */
  cpuPerFrame: number;
}

async function finish(process: Bun.Subprocess): Promise<void> {
  const timer = setTimeout(() => process.kill("SIGKILL"), 3000);
  process.kill("SIGTERM");
  await process.exited;
  clearTimeout(timer);
}

async function measure(relay: Relay, direction: Direction, mode: Mode, size: number): Promise<Sample> {
  const tap = mode === "stream" ? "tapb" : "tapc";
  // Margin for a loaded machine: the guest must outlive the window even when the carrier came late (it is stopped after).
  const seconds = String(WARMUP + WINDOW + 5);
  const guest = direction === "tap -> guest" ? [peer, "sink", mode, "0", seconds] : [peer, "source", mode, String(size), seconds];
  const running = Bun.spawn(inNs(relay.command(mode, tap, guest)), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await waitForCarrier(tap, running);
  const injector = direction === "tap -> guest" ? Bun.spawn(inNs([peer, "inject", tap, String(size), seconds])) : null;
  await Bun.sleep(WARMUP * 1000);
  const count = (p: { rx: number; tx: number }) => (direction === "tap -> guest" ? p.tx : p.rx);
  const cpuBefore = cpuSeconds(running.pid);
  const framesBefore = count(tapPackets(running.pid, tap));
  const started = performance.now();
  await Bun.sleep(WINDOW * 1000);
  const cpuAfter = cpuSeconds(running.pid);
  const framesAfter = count(tapPackets(running.pid, tap));
  const elapsed = (performance.now() - started) / 1000;
  if (injector !== null) await finish(injector);
  await finish(running);
  const frames = framesAfter - framesBefore;
  return { framesPerSecond: frames / elapsed, cpuPerFrame: frames > 0 ? ((cpuAfter - cpuBefore) * 1e9) / frames : Number.NaN };
}

async function relayRows(): Promise<{ rows: string[]; ratios: string[] }> {
  const rows: string[] = [];
  const ratios: string[] = [];
  for (const direction of DIRECTIONS) {
    for (const mode of ["stream", "dgram"] as const) {
      for (const size of SIZES) {
        const samples = new Map<string, Sample[]>(RELAYS.map((relay) => [relay.name, []]));
        for (let run = 0; run < RUNS; run += 1) {
          for (const relay of RELAYS) samples.get(relay.name)?.push(await measure(relay, direction, mode, size));
        }
        const cpu = new Map<string, number>();
        for (const [name, list] of samples) {
          const perFrame = list.map((s) => s.cpuPerFrame);
          const rates = list.map((s) => s.framesPerSecond / 1000);
          cpu.set(name, median(perFrame));
          rows.push(
            `${direction.padEnd(13)} ${mode.padEnd(7)} ${String(size).padStart(6)} B  ${name.padEnd(13)} ` +
              `${median(perFrame).toFixed(0).padStart(6)} ns/frame (${spread(perFrame).padStart(11)})  ` +
              `${median(rates).toFixed(0).padStart(5)} kfps (${spread(rates)})`,
          );
        }
        const ours = cpu.get("tap-launcher") ?? Number.NaN;
        const label = `${direction.padEnd(13)} ${mode.padEnd(7)} ${String(size).padStart(6)} B`;
        const againstBaseline =
          baselineLauncher === undefined ? "" : `   vs baseline ${(ours / (cpu.get("baseline") ?? Number.NaN)).toFixed(2)}`;
        ratios.push(
          `${label}  vs C batched ${(ours / (cpu.get("C batched") ?? Number.NaN)).toFixed(2)}   vs C naive ${(ours / (cpu.get("C naive") ?? Number.NaN)).toFixed(2)}${againstBaseline}`,
        );
        console.log(rows.slice(-RELAYS.length).join("\n"));
      }
    }
  }
  return { rows, ratios };
}

/**
 * Fork-to-fd of our helper, the baseline's (if any) and Debian's, alternating, in a private /etc/qemu
 * that allows br0; each with the CPU time of its runs.
 */
function helperRows(): string[] {
  const cHelper = "/usr/lib/qemu/qemu-bridge-helper";
  const helpers = [
    `tap-bridge-helper=${helper}`,
    ...(baselineLauncher === undefined ? [] : [`baseline helper=${join(dirname(baselineLauncher), "tap-bridge-helper")}`]),
    ...(Bun.file(cHelper).size > 0 ? [`qemu-bridge-helper=${cHelper}`] : []),
  ];
  const output = sh([
    "env",
    "TIMING_CPU=1",
    ...privateEtcPrefix({ "qemu/bridge.conf": "allow br0\n" }),
    ...inNs([process.execPath, join(import.meta.dir, "helper-timing.ts"), String(START_RUNS), "br0", ...helpers]),
  ]);
  const times = JSON.parse(output) as Record<string, number[]>;
  return Object.entries(times).map(
    ([name, list]) =>
      `${name.padEnd(22)} ${name.endsWith(" cpu") ? "CPU time  " : "fork to fd"}  median ${median(list).toFixed(1).padStart(6)} ms (${spread(list, 1)} ms, ${list.length} runs)`,
  );
}

/**
 * Spawn to the guest's first instruction of main, via bench-peer time-exec and a guest that stamps the
 * time; beside it the CPU time of the whole run (the launcher, and the guest it ran), which other work
 * on the machine inflates less.
 */
function startRows(): string[] {
  const launchers = [["tap-launcher", launcher], ...(baselineLauncher === undefined ? [] : [["baseline", baselineLauncher]])];
  const cases = [
    { name: "no launcher (floor)", cmd: [peer, "stamp"] },
    ...launchers.flatMap(([name = "", path = ""]) => [
      { name: `${name} --unmanaged`, cmd: [path, "--quiet", "--tap=tapu", "--unmanaged", "--", peer, "stamp"] },
      { name: `${name} ... --relay=stream`, cmd: [path, "--quiet", "--tap=tapu", "--unmanaged", "--relay=stream", "--", peer, "stamp"] },
    ]),
  ];
  const times = cases.map(() => [] as number[]);
  const cpu = cases.map(() => [] as number[]);
  for (let run = 0; run < START_RUNS; run += 1) {
    for (const [i, { cmd }] of cases.entries()) {
      const [wallUs = Number.NaN, cpuUs = Number.NaN] = sh(inNs([peer, "time-exec", ...cmd]))
        .trim()
        .split(" ")
        .map(Number);
      times[i]?.push(wallUs / 1000);
      cpu[i]?.push(cpuUs / 1000);
    }
  }
  return cases.map(
    ({ name }, i) =>
      `${name.padEnd(34)} start to guest exec  median ${median(times[i] ?? [])
        .toFixed(1)
        .padStart(6)} ms (${spread(times[i] ?? [], 1)} ms)   CPU of the run ${median(cpu[i] ?? [])
        .toFixed(1)
        .padStart(6)} ms (${spread(cpu[i] ?? [], 1)} ms)`,
  );
}

try {
  console.log("building: tap-launcher and tap-bridge-helper (bun), ref-relay and bench-peer (cc -O2)");
  const aclFile = join(work, "bridge.conf");
  writeFileSync(aclFile, "allow br0\n");
  const dist = await buildWithAcl(aclFile);
  launcher = join(dist, "tap-launcher");
  helper = join(dist, "tap-bridge-helper");
  sh(["cc", "-O2", "-o", refRelay, join(root, "tests/bench/ref-relay.c")]);
  sh(["cc", "-O2", "-o", peer, join(root, "tests/bench/bench-peer.c")]);

  sh(["ip", "netns", "add", ns]);
  sh(inNs(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]));
  sh(inNs(["ip", "tuntap", "add", "dev", "tapb", "mode", "tap", "vnet_hdr"]));
  sh(inNs(["ip", "tuntap", "add", "dev", "tapc", "mode", "tap"]));
  sh(inNs(["ip", "tuntap", "add", "dev", "tapu", "mode", "tap"]));
  for (const tap of ["tapb", "tapc"]) sh(["ip", "-n", ns, "link", "set", tap, "mtu", "65521", "up"]);
  sh(["ip", "-n", ns, "link", "add", "br0", "type", "bridge"]);
  sh(["ip", "-n", ns, "link", "set", "br0", "up"]);

  const load = readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(" ");
  const helperLines = PARTS.includes("start") ? helperRows() : [];
  const startLines = PARTS.includes("start") ? startRows() : [];
  console.log([...helperLines, ...startLines].join("\n"));
  const scaleLines = PARTS.includes("scale") ? await scaleRows(ns, work, aclFile, START_RUNS) : [];
  const { rows, ratios } = PARTS.includes("relay") ? await relayRows() : { rows: [], ratios: [] };
  const report = [
    `relay benchmark: ${WINDOW} s windows after ${WARMUP} s warm-up, median of ${RUNS} alternating runs (spread min-max); ` +
      `load average at start ${load}; ${new Date().toISOString()}`,
    "",
    "direction     format    size  relay         CPU per frame (spread)             frames/s (spread)",
    ...rows,
    "",
    "CPU per frame, tap-launcher / reference:",
    ...ratios,
    "",
    `helper start, run as QEMU runs it (socketpair, --use-vnet --br=br0 --fd=3), ${START_RUNS} alternating runs:`,
    ...helperLines,
    "",
    `launcher start to guest exec (bench-peer time-exec: fork to the guest's first stamp), ${START_RUNS} alternating runs:`,
    ...startLines,
    ...(scaleLines.length === 0 ? [] : ["", "helper scale (tests/bench/scale.ts):", ...scaleLines]),
  ].join("\n");
  console.log(`\n${report}`);
  // Only a whole run replaces the recorded one: a narrowed run (BENCH_PARTS, BENCH_SIZES, ...) would lose the rest.
  const narrowed = ["BENCH_PARTS", "BENCH_SIZES", "BENCH_DIRECTIONS", "BENCH_BASELINE_LAUNCHER", "BENCH_BASELINE_TREE"].some(
    (name) => process.env[name] !== undefined,
  );
  if (!narrowed) writeFileSync(join(root, "tests/bench/last-run.txt"), `${report}\n`);
} finally {
  Bun.spawnSync({ cmd: ["ip", "netns", "del", ns] });
  removeTempFolders();
}
