// Sending fds over a unix socket with SCM_RIGHTS: one, as QEMU's bridge helper protocol does, or one per TAP queue.
import { describeErrno, pollOneOrErrno, sendMessageOrErrno } from "./libc.ts";
import { SysError } from "./errors.ts";
import { EAGAIN, EINTR, EIO, ETIMEDOUT } from "./errno.ts";
import { MSG_DONTWAIT, MSG_NOSIGNAL, POLLOUT, SCM_RIGHTS, SOL_SOCKET } from "./kernel.ts";
import { CMSGHDR, cmsgSpace, MessageArena, writeControlHeader } from "./msghdr.ts";

const arena = new MessageArena();
const { MESSAGE, DATA, CONTROL } = MessageArena;
/** The most fds one message carries: a multiqueue TAP has at most 16 queues here (the kernel allows 256). */
const MAX_FDS_PER_MESSAGE = 16;

/** Sends `fds` on the unix socket `socketFd` within `timeoutMs` (docs/design.md, "Handing fds over"). throws SysError(EPIPE, ETIMEDOUT). */
export function sendFds(socketFd: number, fds: readonly number[], timeoutMs: number): void {
  if (fds.length === 0 || fds.length > MAX_FDS_PER_MESSAGE)
    throw new RangeError(`${fds.length} fds: one message carries 1 to ${MAX_FDS_PER_MESSAGE}`);
  const deadline = performance.now() + timeoutMs;
  const dataBytes = 4 * fds.length; // n * sizeof(int)
  const fail = (errno: number, reason = describeErrno(errno)) => new SysError("sendmsg", errno, reason, `fd ${socketFd}`);
  for (;;) {
    arena.layOut(1, cmsgSpace(dataBytes));
    arena.bytes[DATA] = 0x20;
    writeControlHeader(arena.view, CONTROL, SOL_SOCKET, SCM_RIGHTS, dataBytes);
    for (const [i, fd] of fds.entries()) arena.view.setInt32(CONTROL + CMSGHDR.size + 4 * i, fd, true);
    const sent = sendMessageOrErrno(socketFd, arena.bytes.subarray(MESSAGE), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent === 1) return; // the one data byte, and with it the fds
    if (sent >= 0) throw fail(EIO, `sent ${sent} bytes instead of 1`);
    if (-sent === EINTR) continue;
    if (-sent !== EAGAIN) throw fail(-sent);
    const left = Math.ceil(deadline - performance.now());
    if (left <= 0) throw fail(ETIMEDOUT, `the receiver read nothing for ${timeoutMs / 1000} s and the socket is full`);
    pollOneOrErrno(socketFd, POLLOUT, left); // ready, timed out or interrupted: the next sendmsg tells which
  }
}
