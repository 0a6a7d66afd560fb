// Catching a helper at the moment it sends the fd: its send is made to wait, and every thread's
// credentials are read from /proc while it waits; then the socket is drained and the fd received.
import { readdirSync, readFileSync } from "node:fs";
import { receiveFd, type ReceivedFd } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOL_SOCKET } from "../../shared/kernel.ts";
import { F_GETFL, F_SETFL, O_NONBLOCK, SOCK_STREAM, SO_PASSCRED } from "../../shared/kernel-launcher.ts";
import { closeFd, readOrErrno, writeOrErrno } from "../../shared/libc.ts";
import { fcntl, openSocketPair } from "../../shared/libc-launcher.ts";
import { setSocketOptionInt } from "./socket-calls.ts";

/**
 * x86-64 syscall numbers, as /proc/PID/syscall shows them: the helper waits for room in a full socket
 * in poll() (its send is bounded in time); a plain blocking sender would wait in sendmsg itself.
 */
const SYS_POLL = 7;
const SYS_SENDMSG = 46;

export interface SendMoment {
  exitCode: number;
  stderr: string;
  received: ReceivedFd;
  /** /proc/PID/task/TID/status of every thread while the helper was waiting to send. */
  threads: string[];
}

function fillSendQueue(fd: number): number {
  const flags = fcntl(fd, F_GETFL, "F_GETFL");
  fcntl(fd, F_SETFL, "F_SETFL", flags | O_NONBLOCK);
  const chunk = new Uint8Array(65536);
  let total = 0;
  for (;;) {
    const n = writeOrErrno(fd, chunk);
    if (n <= 0) break;
    total += n;
  }
  fcntl(fd, F_SETFL, "F_SETFL", flags);
  return total;
}

function drain(fd: number, bytes: number): void {
  const buffer = new Uint8Array(65536);
  let left = bytes;
  while (left > 0) {
    const n = readOrErrno(fd, buffer, Math.min(left, buffer.byteLength));
    if (n <= 0) throw new Error(`drain: ${n}`);
    left -= n;
  }
}

/** Runs `cmd` (whose final exec is the helper, same pid) with `--fd=3` and catches it sending. */
export async function catchSendMoment(cmd: string[]): Promise<SendMoment> {
  const [ours, theirs] = openSocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
  try {
    setSocketOptionInt(ours, SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", 1);
    const filler = fillSendQueue(theirs);
    const child = Bun.spawn({ cmd, stdio: ["ignore", "ignore", "pipe", theirs] });
    closeFd(theirs);
    const stderrText = new Response(child.stderr).text();
    const threads: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && child.exitCode === null) {
      let syscall = "";
      try {
        syscall = readFileSync(`/proc/${child.pid}/syscall`, "latin1");
      } catch {
        break;
      }
      if (syscall.startsWith(`${SYS_POLL} `) || syscall.startsWith(`${SYS_SENDMSG} `)) {
        for (const tid of readdirSync(`/proc/${child.pid}/task`)) {
          threads.push(readFileSync(`/proc/${child.pid}/task/${tid}/status`, "latin1"));
        }
        break;
      }
      await Bun.sleep(5);
    }
    drain(ours, filler);
    const received = receiveFd(ours);
    const exitCode = await child.exited;
    return { exitCode, stderr: await stderrText, received, threads };
  } finally {
    closeFd(ours);
  }
}

/** One field of a /proc status text. */
export function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "";
}
