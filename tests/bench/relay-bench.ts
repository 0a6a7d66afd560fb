// `bun run bench`: the relay's speed against a naive C reference relay and socat, measured in one run.
//
// Every relay opens the same pre-made TAPs (tapb with a vnet header for stream, tapc without for
// dgram, both MTU 65521) and talks to the same C peer on fd 3, in a throw-away network namespace.
// tap -> guest: bench-peer injects frames into the TAP as fast as it can; the guest-side sink counts
// what arrives. guest -> tap: the guest-side source writes as fast as it can; the TAP's receive
// counter says what arrived. Prints frames/s, Gbit/s, ratios against the references, and the
// launcher's peak RSS. Run as root.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "tl-bench-"));
const ns = `tl-bench-${process.pid}`;
const WARMUP = 0.5;
const WINDOW = Number(process.env.BENCH_SECONDS ?? 2);
const SIZES = [64, 1500, 65535];

function sh(cmd: string[]): string {
  const result = Bun.spawnSync({ cmd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
const inNs = (cmd: string[]) => ["ip", "netns", "exec", ns, ...cmd];

function tapCounters(tap: string): { packets: number; bytes: number } {
  const line = sh(inNs(["cat", "/proc/net/dev"])).split("\n").find((row) => row.trim().startsWith(`${tap}:`));
  const fields = line?.split(":")[1]?.trim().split(/\s+/).map(Number) ?? [];
  return { bytes: fields[0] ?? 0, packets: fields[1] ?? 0 };
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

interface Measurement {
  framesPerSecond: number;
  gbitPerSecond: number;
  peakRssKb: number;
}

let launcher = "";
const peer = join(work, "bench-peer");
const refRelay = join(work, "ref-relay");

type Relay = { name: string; mode: "stream" | "dgram"; tap: string; command: (guest: string[]) => string[]; isOurs: boolean };

const RELAYS: Relay[] = [
  { name: "tap-launcher", mode: "stream", tap: "tapb", isOurs: true, command: (guest) => [launcher, "--quiet", "--tap=tapb", "--unmanaged", "--relay=stream", "--", ...guest] },
  { name: "C reference", mode: "stream", tap: "tapb", isOurs: false, command: (guest) => [peer, "pair", "stream", refRelay, "tapb", "stream", "10", "--", ...guest] },
  { name: "tap-launcher", mode: "dgram", tap: "tapc", isOurs: true, command: (guest) => [launcher, "--quiet", "--tap=tapc", "--unmanaged", "--relay=dgram", "--", ...guest] },
  { name: "C reference", mode: "dgram", tap: "tapc", isOurs: false, command: (guest) => [peer, "pair", "dgram", refRelay, "tapc", "dgram", "0", "--", ...guest] },
  { name: "socat", mode: "dgram", tap: "tapc", isOurs: false, command: (guest) => [peer, "pair", "dgram", "socat", "-b", "70000", "TUN,tun-name=tapc,tun-type=tap,iff-no-pi", "FD:3", "--", ...guest] },
];

function peakRss(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function finish(process: Bun.Subprocess): Promise<void> {
  const timer = setTimeout(() => process.kill("SIGKILL"), 3000);
  process.kill("SIGTERM");
  await process.exited;
  clearTimeout(timer);
}

async function tapToGuest(relay: Relay, size: number): Promise<Measurement> {
  const guest = [peer, "sink", relay.mode, String(WARMUP), String(WINDOW)];
  const running = Bun.spawn(inNs(relay.command(guest)), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const output = new Response(running.stdout).text();
  await waitForCarrier(relay.tap, running);
  const injector = Bun.spawn(inNs([peer, "inject", relay.tap, String(size), String(WARMUP + WINDOW + 0.5)]));
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, peakRss(running.pid))), 200);
  await injector.exited;
  clearInterval(sampler);
  rss = Math.max(rss, peakRss(running.pid));
  await Bun.sleep(300);
  await finish(running);
  const [frames = 0, bytes = 0] = (await output).trim().split(/\s+/).map(Number);
  return { framesPerSecond: frames / WINDOW, gbitPerSecond: (bytes * 8) / WINDOW / 1e9, peakRssKb: relay.isOurs ? rss : 0 };
}

async function guestToTap(relay: Relay, size: number): Promise<Measurement> {
  const guest = [peer, "source", relay.mode, String(size), String(WARMUP + WINDOW + 0.5)];
  const running = Bun.spawn(inNs(relay.command(guest)), { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  await waitForCarrier(relay.tap, running);
  await Bun.sleep(WARMUP * 1000);
  const before = tapCounters(relay.tap);
  const started = performance.now();
  await Bun.sleep(WINDOW * 1000);
  const after = tapCounters(relay.tap);
  const seconds = (performance.now() - started) / 1000;
  const rss = relay.isOurs ? peakRss(running.pid) : 0;
  await finish(running);
  return { framesPerSecond: (after.packets - before.packets) / seconds, gbitPerSecond: ((after.bytes - before.bytes) * 8) / seconds / 1e9, peakRssKb: rss };
}

function format(m: Measurement): string {
  return `${(m.framesPerSecond / 1000).toFixed(0).padStart(7)} kfps ${m.gbitPerSecond.toFixed(2).padStart(7)} Gbit/s`;
}

try {
  console.log("building: tap-launcher (bun), ref-relay and bench-peer (cc -O2)");
  sh(["env", `TAP_OUT_DIR=${join(work, "dist")}`, process.execPath, "run", "--cwd", root, "build"]);
  launcher = join(work, "dist", "tap-launcher");
  sh(["cc", "-O2", "-o", refRelay, join(root, "tests/bench/ref-relay.c")]);
  sh(["cc", "-O2", "-o", peer, join(root, "tests/bench/bench-peer.c")]);
  const haveSocat = Bun.spawnSync({ cmd: ["sh", "-c", "command -v socat"] }).exitCode === 0;

  sh(["ip", "netns", "add", ns]);
  sh(inNs(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]));
  sh(inNs(["ip", "tuntap", "add", "dev", "tapb", "mode", "tap", "vnet_hdr"]));
  sh(inNs(["ip", "tuntap", "add", "dev", "tapc", "mode", "tap"]));
  for (const tap of ["tapb", "tapc"]) sh(["ip", "-n", ns, "link", "set", tap, "mtu", "65521", "up"]);

  const rows: string[] = [];
  let peak = 0;
  const ratios: string[] = [];
  for (const direction of ["tap -> guest", "guest -> tap"] as const) {
    for (const mode of ["stream", "dgram"] as const) {
      for (const size of SIZES) {
        const results = new Map<string, Measurement>();
        for (const relay of RELAYS.filter((r) => r.mode === mode && (r.name !== "socat" || haveSocat))) {
          const m = direction === "tap -> guest" ? await tapToGuest(relay, size) : await guestToTap(relay, size);
          results.set(relay.name, m);
          peak = Math.max(peak, m.peakRssKb);
          rows.push(`${direction.padEnd(13)} ${mode.padEnd(7)} ${String(size).padStart(6)} B  ${relay.name.padEnd(13)} ${format(m)}`);
        }
        const ours = results.get("tap-launcher");
        for (const [name, m] of results) {
          if (name === "tap-launcher" || ours === undefined || m.framesPerSecond === 0) continue;
          ratios.push(`${direction.padEnd(13)} ${mode.padEnd(7)} ${String(size).padStart(6)} B  tap-launcher / ${name.padEnd(11)} = ${(ours.framesPerSecond / m.framesPerSecond).toFixed(2)}`);
        }
      }
    }
  }
  const report = [
    `relay benchmark: ${WINDOW} s windows after ${WARMUP} s warm-up, ${new Date().toISOString()}`,
    "", "direction     format    size  relay         rate", ...rows,
    "", "ratios (frame rate):", ...ratios,
    "", `tap-launcher peak RSS (VmHWM): ${(peak / 1024).toFixed(1)} MiB`,
  ].join("\n");
  console.log(report);
  writeFileSync(join(root, "tests/bench/last-run.txt"), `${report}\n`);
} finally {
  Bun.spawnSync({ cmd: ["ip", "netns", "del", ns] });
  rmSync(work, { recursive: true, force: true });
}
