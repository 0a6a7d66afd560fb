// Start time of both programs in two builds, in one run: `bun tests/bench/start-times.ts LABEL=DIST LABEL=DIST [--runs=N]`.
//
// Each DIST is a `bun run build` output folder (tap-bridge-helper and tap-launcher in it). Every
// program runs `--version` (its whole start: exec, Bun's runtime, the bytecode, the argument check,
// one line out) RUNS times, the builds interleaved run by run so that a busy machine slows them
// alike; the median and the 90th percentile of the wall time are printed per program and build.
import { join } from "node:path";

const runs = Number(process.argv.find((arg) => arg.startsWith("--runs="))?.slice("--runs=".length) ?? "40");
const builds = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith("--"))
  .map((arg) => {
    const [label, dist] = arg.split("=", 2);
    if (label === undefined || dist === undefined) throw new Error(`expected LABEL=DIST, not ${arg}`);
    return { label, dist };
  });
if (builds.length === 0) throw new Error("usage: bun tests/bench/start-times.ts LABEL=DIST [LABEL=DIST...] [--runs=N]");

/** Wall time of one `PROGRAM --version`, in milliseconds. */
function timeOnce(program: string): number {
  const start = Bun.nanoseconds();
  const result = Bun.spawnSync({ cmd: [program, "--version"], stdout: "pipe", stderr: "pipe" });
  const elapsed = (Bun.nanoseconds() - start) / 1e6;
  if (result.exitCode !== 0) throw new Error(`${program} --version exited ${result.exitCode}: ${result.stderr.toString()}`);
  return elapsed;
}

const samples = new Map<string, number[]>();
for (let run = 0; run < runs; run += 1) {
  for (const { label, dist } of builds) {
    for (const name of ["tap-bridge-helper", "tap-launcher"]) {
      const key = `${label} ${name}`;
      const list = samples.get(key) ?? [];
      list.push(timeOnce(join(dist, name)));
      samples.set(key, list);
    }
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
for (const [key, list] of samples) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(
    `${key.padEnd(32)} median ${quantile(sorted, 0.5).toFixed(1)} ms, p90 ${quantile(sorted, 0.9).toFixed(1)} ms (${list.length} runs)`,
  );
}
