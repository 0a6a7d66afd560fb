// `BENCH_PARTS=scale` of `bun run bench`: the helper's fork-to-fd against the ports on its bridge, with and
// without a policy, beside Debian's C helper, an empty program compiled as the helper is, and bare-helper.ts (the
// kernel's steps alone, through shared/, compiled the same way); then 200 helpers at once.
//
// Every helper runs as root, the way QEMU runs it (helper-timing.ts), in the bench's namespace and a private
// /etc/qemu that allows br0. The ports are persistent TAPs on br0, up, held by 40 other users (each
// with its place, and the alias that marked a holder before places), as a lab's bridge is; the caller
// holds none. Policies: `* br0 1024`, and `* br0 8` (a request asks for each place below its limit).
// Programs alternate within each port count; the figure is the median with the spread (min-max).
// BENCH_BASELINE_TREE=DIR (a checkout of an earlier commit, with node_modules) builds that helper with
// the same ACL and policy paths and measures it beside, in the same run: a before/after figure.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { placeName } from "../../policy/holders.ts";
import { COMPILE_FLAGS } from "../../scripts/compile-flags.ts";
import { buildWithAcl } from "../support/build.ts";
import { privateEtcPrefix } from "../support/private-etc.ts";

const PORT_COUNTS = [0, 250, 500, 1000];
const AT_ONCE = 200;
const C_HELPER = "/usr/lib/qemu/qemu-bridge-helper";

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export const spread = (values: number[], digits = 0) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;

function sh(cmd: string[]): string {
  const result = Bun.spawnSync({ cmd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** `source` compiled as scripts/build.ts compiles the helper, to `output`. */
function compileAsHelper(source: string, output: string): string {
  sh([process.execPath, "build", ...COMPILE_FLAGS, source, `--outfile=${output}`]);
  return output;
}

/** The helper of the checkout `tree`, built to read `aclFile` and `policyFile`. */
function buildBaseline(tree: string, work: string, aclFile: string, policyFile: string, name: string): string {
  const outDir = join(work, name);
  const env = { ...process.env, TAP_ACL_FILE: aclFile, TAP_POLICY_FILE: policyFile, TAP_OUT_DIR: outDir };
  const built = Bun.spawnSync({ cmd: [process.execPath, "run", "build"], cwd: tree, env, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`cannot build the baseline in ${tree}: ${built.stderr.toString()}`);
  return join(outDir, "tap-bridge-helper");
}

/** Users whose ports fill the bridge, as a lab's students: the ports are theirs, not the caller's (root). */
const PORT_HOLDERS = 40;

/**
 * Puts persistent, up TAPs s0, s1, ... on br0 until it has `count` of them, each held by one of
 * PORT_HOLDERS users (uid 1000 and up): with its place (policy/holders.ts), and with the alias that
 * marked a holder before places, so that the baseline's count reads them too.
 */
function growPorts(ns: string, work: string, from: number, count: number): void {
  if (count <= from) return;
  const bridgeIndex = (JSON.parse(sh(["ip", "-n", ns, "-j", "link", "show", "dev", "br0"])) as { ifindex: number }[])[0]?.ifindex ?? 0;
  const lines: string[] = [];
  for (let i = from; i < count; i += 1) {
    const uid = 1000 + (i % PORT_HOLDERS);
    lines.push(
      `tuntap add dev s${i} mode tap`,
      `link property add dev s${i} altname ${placeName(uid, bridgeIndex, Math.floor(i / PORT_HOLDERS))}`,
      `link set dev s${i} alias "tap-bridge-helper uid=${uid}"`,
      `link set dev s${i} master br0 up`,
    );
  }
  const batch = join(work, "ports.batch");
  writeFileSync(batch, `${lines.join("\n")}\n`);
  sh(["ip", "-n", ns, "-batch", batch]);
}

function tunCount(ns: string): number {
  return (JSON.parse(sh(["ip", "-n", ns, "-j", "link", "show", "type", "tun"]) || "[]") as unknown[]).length;
}

/**
 * The scale rows, printed as they come. `ns` has an up bridge br0 and nothing on it; `aclFile`
 * allows br0. Leaves br0 without ports.
 */
export async function scaleRows(ns: string, work: string, aclFile: string, runs: number): Promise<string[]> {
  const policyFile = join(work, "bridge-policy.conf");
  writeFileSync(policyFile, "* br0 1024\n", { mode: 0o644 });
  // A request asks for each of the caller's places below its limit: a small limit, as a lab gives.
  const smallLimitFile = join(work, "bridge-policy-8.conf");
  writeFileSync(smallLimitFile, "* br0 8\n", { mode: 0o644 });
  const helper = join(await buildWithAcl(aclFile, join(work, "no-policy.conf")), "tap-bridge-helper");
  const withPolicy = join(await buildWithAcl(aclFile, policyFile), "tap-bridge-helper");
  const withSmallLimit = join(await buildWithAcl(aclFile, smallLimitFile), "tap-bridge-helper");
  // The runtime's own start: an empty program.
  writeFileSync(join(work, "empty.ts"), "");
  const empty = compileAsHelper(join(work, "empty.ts"), join(work, "empty-program"));
  // The runtime, shared/'s libc and the kernel's steps, without a check.
  const bare = compileAsHelper(join(import.meta.dir, "bare-helper.ts"), join(work, "bare-helper"));
  const tree = process.env.BENCH_BASELINE_TREE;
  const baseline =
    tree === undefined
      ? []
      : [
          ["before, no policy", buildBaseline(tree, work, aclFile, join(work, "no-policy.conf"), "baseline")],
          ["before, policy", buildBaseline(tree, work, aclFile, policyFile, "baseline-policy")],
        ];
  const inNs = (cmd: string[]) => [...privateEtcPrefix({ "qemu/bridge.conf": "allow br0\n" }), "ip", "netns", "exec", ns, ...cmd];
  const timing = join(import.meta.dir, "helper-timing.ts");
  const rows: string[] = [];
  const say = (line: string) => {
    rows.push(line);
    console.log(line);
  };

  say(`${AT_ONCE} helpers at once on an empty br0 (time until the last exited; served; TUN devices left afterwards):`);
  const before = tunCount(ns);
  for (const [name, path] of [["no policy", helper], ["policy * br0 1024", withPolicy], ...baseline]) {
    const burst = JSON.parse(sh(inNs([process.execPath, timing, "burst", String(AT_ONCE), "br0", path ?? ""]))) as {
      ms: number;
      served: number;
      failures: string[];
    };
    const failures = [...new Set(burst.failures)].slice(0, 3).join("; ");
    say(
      `  ${(name ?? "").padEnd(18)} ${(burst.ms / 1000).toFixed(2)} s, ${burst.served}/${AT_ONCE} served, ${tunCount(ns) - before} left${failures === "" ? "" : `: ${failures}`}`,
    );
  }

  const programs = [
    ["empty program", `exit:${empty}`],
    ["bare steps", bare],
    ["ours, no policy", helper],
    ["ours, policy", withPolicy],
    ["ours, policy 8", withSmallLimit],
    ...baseline,
    ...(Bun.file(C_HELPER).size > 0 ? [["C helper", C_HELPER]] : []),
  ];
  const header = `  ports  ${programs.map(([name]) => (name ?? "").padEnd(22)).join("")}`;
  const medians = new Map<string, number>();
  const cpuRows: string[] = [];
  let ports = 0;
  say(`fork to fd (the empty program: fork to exit), ms, median (min-max) of ${runs} alternating runs, by ports on br0:`);
  say(header);
  for (const count of PORT_COUNTS) {
    growPorts(ns, work, ports, count);
    ports = count;
    const command = [process.execPath, timing, String(runs), "br0", ...programs.map(([name, path]) => `${name}=${path}`)];
    const times = JSON.parse(sh(["env", "TIMING_CPU=1", ...inNs(command)])) as Record<string, number[]>;
    const cells = (suffix: string) =>
      programs
        .map(([name = ""]) => {
          const list = times[`${name}${suffix}`] ?? [];
          medians.set(`${name}${suffix}@${count}`, median(list));
          return `${median(list).toFixed(1)} (${spread(list, 1)})`.padEnd(22);
        })
        .join("");
    say(`  ${String(count).padStart(5)}  ${cells("")}`);
    cpuRows.push(`  ${String(count).padStart(5)}  ${cells(" cpu")}`);
  }
  say("CPU time of the same runs (user and system, all threads), ms, median (min-max):");
  say(header);
  for (const row of cpuRows) say(row);
  const ratio = (a: string, b: string) => ((medians.get(a) ?? Number.NaN) / (medians.get(b) ?? Number.NaN)).toFixed(2);
  say(`  ours with a policy, 1000 ports / 0 ports: ${ratio("ours, policy@1000", "ours, policy@0")} (target <= 1.2)`);
  say(`  ours without a policy / the empty program, 0 ports: ${ratio("ours, no policy@0", "empty program@0")} (target <= 1.5)`);
  say(`  the bare steps / the empty program, 0 ports: ${ratio("bare steps@0", "empty program@0")}`);
  say(`  ours without a policy / the bare steps, 0 ports: ${ratio("ours, no policy@0", "bare steps@0")}`);
  say(`  ours with a policy / the empty program, 0 ports: ${ratio("ours, policy@0", "empty program@0")}`);
  say(`  in CPU time: ours without a policy / the empty program, 0 ports: ${ratio("ours, no policy cpu@0", "empty program cpu@0")}`);
  say(`  in CPU time: ours with a policy, 1000 ports / 0 ports: ${ratio("ours, policy cpu@1000", "ours, policy cpu@0")}`);
  say(`  ours with the policy * br0 8, 1000 ports / 0 ports: ${ratio("ours, policy 8@1000", "ours, policy 8@0")}`);
  if (tree !== undefined) {
    say(`  before, with a policy, 1000 ports / 0 ports: ${ratio("before, policy@1000", "before, policy@0")}`);
    say(`  before, without a policy / the empty program, 0 ports: ${ratio("before, no policy@0", "empty program@0")}`);
  }
  const batch = join(work, "ports-del.batch");
  writeFileSync(batch, `${Array.from({ length: ports }, (_, i) => `link del dev s${i}`).join("\n")}\n`);
  if (ports > 0) sh(["ip", "-n", ns, "-batch", batch]);
  return rows;
}
