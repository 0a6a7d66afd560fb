// Runs a bridge helper the way QEMU does: one end of a socketpair as --fd, then receive what it sent.
import { receiveFds } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC } from "../../shared/kernel.ts";
import { SOCK_STREAM } from "../../shared/kernel-launcher.ts";
import { closeFd } from "../../shared/libc.ts";
import { openSocketPair } from "../../shared/libc-launcher.ts";

export interface HelperOutcome {
  exitCode: number;
  stderr: string;
  /** The (first) fd the helper sent (close it when done), or null. */
  fd: number | null;
  /** Every fd the helper sent in its message (one per queue), fd first. */
  fds: number[];
}

/**
 * Runs `cmd` with the helper's end of a socketpair as fd 3 (or `fd3` there instead, or nothing), and
 * returns its exit, stderr and the fd it sent. Arguments are passed as given: `--fd=3` names the socket.
 */
export async function runHelper(cmd: string[], options: { fd3?: number | "none" } = {}): Promise<HelperOutcome> {
  const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
  let theirsOpen = true;
  try {
    const child = Bun.spawn({
      cmd,
      stdio: options.fd3 === "none" ? ["ignore", "ignore", "pipe"] : ["ignore", "ignore", "pipe", options.fd3 ?? theirs],
    });
    // Only the helper may hold the other end, or a helper that sends nothing would block us forever.
    closeFd(theirs);
    theirsOpen = false;
    const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    const received = receiveFds(ours, 64);
    return { exitCode, stderr, fd: received.fds[0] ?? null, fds: received.fds };
  } finally {
    if (theirsOpen) closeFd(theirs);
    closeFd(ours);
  }
}
