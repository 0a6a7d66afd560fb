// Fork-to-fd times of bridge helpers run the way QEMU runs them; started by relay-bench.ts inside its
// network namespace and a private /etc/qemu.
//   helper-timing.ts RUNS BRIDGE NAME=HELPER...   prints one JSON object: {NAME: [milliseconds, ...], ...}
// Runs alternate between the helpers. Each run: a socketpair, the helper spawned with one end as fd 3
// and `--use-vnet --br=BRIDGE --fd=3`, the clock stopped when the fd's message is readable.
import { receiveFd } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { POLLIN, SOCK_STREAM } from "../../shared/kernel-launcher.ts";
import { closeFd, pollOneOrErrno } from "../../shared/libc.ts";
import { openSocketPair } from "../../shared/libc-launcher.ts";

const [runsText = "7", bridge = "br0", ...named] = process.argv.slice(2);
const helpers = named.map((entry) => {
  const at = entry.indexOf("=");
  return { name: entry.slice(0, at), path: entry.slice(at + 1) };
});

async function forkToFd(path: string): Promise<number> {
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
    return elapsed;
  } finally {
    closeFd(ours);
  }
}

const times: Record<string, number[]> = Object.fromEntries(helpers.map(({ name }) => [name, []]));
for (let run = 0; run < Number(runsText); run += 1) {
  for (const { name, path } of helpers) times[name]?.push(await forkToFd(path));
}
console.log(JSON.stringify(times));
