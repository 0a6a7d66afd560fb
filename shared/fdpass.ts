// Passing fds over a unix socket with SCM_RIGHTS: one, as QEMU's bridge helper protocol does, or one per TAP queue.
import { addressOf, closeFd, describeErrno, pollOneOrErrno, receiveMessageOrErrno, sendMessageOrErrno } from "./libc.ts";
import { SysError } from "./errors.ts";
import { EAGAIN, EINTR, EIO, ETIMEDOUT } from "./errno.ts";
import { MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, POLLOUT, SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET } from "./kernel.ts";
import { CMSGHDR, cmsgSpace, controlMessages, IOVEC, MSGHDR, writeControlHeader } from "./msghdr.ts";

// One long-lived arena holds msghdr, iovec, data and control buffer, so the pointers stored inside
// msghdr stay valid (small typed arrays may move: oven-sh/bun#32054).
const arena = new Uint8Array(4096);
const arenaAddress = addressOf(arena);
const arenaView = new DataView(arena.buffer);
// Where each part sits in the arena.
const MESSAGE = 0; // struct msghdr
const VECTOR = 64; // one struct iovec
const DATA = 128; // the payload; QEMU sends and expects one byte
const DATA_ROOM = 128;
const CONTROL = 256; // control messages: room for many fds, so that extras can be closed, not leaked
const CONTROL_ROOM = 1024;

function layOutMessage(dataLength: number, controlLength: number): void {
  arena.fill(0, 0, CONTROL + CONTROL_ROOM);
  arenaView.setBigUint64(MESSAGE + MSGHDR.iov, BigInt(arenaAddress + VECTOR), true);
  arenaView.setBigUint64(MESSAGE + MSGHDR.iovLength, 1n, true);
  arenaView.setBigUint64(MESSAGE + MSGHDR.control, BigInt(arenaAddress + CONTROL), true);
  arenaView.setBigUint64(MESSAGE + MSGHDR.controlLength, BigInt(controlLength), true);
  arenaView.setBigUint64(VECTOR + IOVEC.base, BigInt(arenaAddress + DATA), true);
  arenaView.setBigUint64(VECTOR + IOVEC.length, BigInt(dataLength), true);
}

/** The most fds one message carries: a multiqueue TAP has at most 16 queues here (the kernel allows 256). */
export const MAX_FDS_PER_MESSAGE = 16;

/**
 * Sends `fds` in one message over the unix socket `socketFd` with one data byte and SCM_RIGHTS,
 * retrying EINTR, and waiting at most `timeoutMs` for room in the socket: a receiver that never reads
 * (or filled the socket beforehand) must not hold the sender forever. The socket's own flags and
 * options are left as they are (the caller may share it): MSG_DONTWAIT and poll() make the wait
 * bounded. MSG_NOSIGNAL turns a vanished receiver into EPIPE instead of SIGPIPE.
 * throws RangeError for no fds or more than MAX_FDS_PER_MESSAGE, SysError(EPIPE, ENOTSOCK, EBADF, ETIMEDOUT, ...).
 */
export function sendFds(socketFd: number, fds: readonly number[], timeoutMs: number): void {
  if (fds.length === 0 || fds.length > MAX_FDS_PER_MESSAGE)
    throw new RangeError(`${fds.length} fds: one message carries 1 to ${MAX_FDS_PER_MESSAGE}`);
  const deadline = performance.now() + timeoutMs;
  const dataBytes = 4 * fds.length; // n * sizeof(int)
  for (;;) {
    layOutMessage(1, cmsgSpace(dataBytes));
    arena[DATA] = 0x20;
    writeControlHeader(arenaView, CONTROL, SOL_SOCKET, SCM_RIGHTS, dataBytes);
    for (const [i, fd] of fds.entries()) arenaView.setInt32(CONTROL + CMSGHDR.size + 4 * i, fd, true);
    const sent = sendMessageOrErrno(socketFd, arena.subarray(MESSAGE), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent === 1) return; // the one data byte, and with it the fds
    if (sent >= 0) throw new SysError("sendmsg", EIO, `sent ${sent} bytes instead of 1`, `fd ${socketFd}`);
    if (-sent === EINTR) continue;
    if (-sent !== EAGAIN) throw new SysError("sendmsg", -sent, describeErrno(-sent), `fd ${socketFd}`);
    const left = Math.ceil(deadline - performance.now());
    if (left <= 0) {
      throw new SysError(
        "sendmsg",
        ETIMEDOUT,
        `the receiver read nothing for ${timeoutMs / 1000} s and the socket is full`,
        `fd ${socketFd}`,
      );
    }
    pollOneOrErrno(socketFd, POLLOUT, left); // ready, timed out or interrupted: the next sendmsg tells which
  }
}

/** sendFds with one fd: QEMU's protocol. */
export function sendFd(socketFd: number, fd: number, timeoutMs: number): void {
  sendFds(socketFd, [fd], timeoutMs);
}

/** What one recvmsg on the helper's socket brought. */
export interface ReceivedFd {
  /** The first fd passed, close-on-exec, or null if none came. */
  fd: number | null;
  /** Data bytes received; 0 means the peer closed without sending anything. */
  bytes: number;
  /** Fds beyond the first, or a truncated control message: the peer broke the protocol. */
  extra: boolean;
  /** The sender's pid, uid and gid as the kernel saw them when it sent (only with SO_PASSCRED set). */
  sender: { pid: number; uid: number; gid: number } | null;
}

/** What one recvmsg brought when up to N fds were expected. */
export interface ReceivedFds {
  /** The fds passed, close-on-exec, at most the number asked for. */
  fds: number[];
  bytes: number;
  /** More fds than asked for (closed at once), or a truncated control message: the peer broke the protocol. */
  extra: boolean;
  sender: ReceivedFd["sender"];
}

/**
 * Receives one message and up to `wanted` fds it carries, retrying EINTR (blocks unless the socket
 * is non-blocking). Fds beyond `wanted` are closed at once. throws SysError(EAGAIN, EBADF, ...).
 */
export function receiveFds(socketFd: number, wanted: number): ReceivedFds {
  let received: number;
  do {
    layOutMessage(DATA_ROOM, CONTROL_ROOM);
    received = receiveMessageOrErrno(socketFd, arena.subarray(MESSAGE), MSG_CMSG_CLOEXEC);
  } while (received === -EINTR);
  if (received < 0) throw new SysError("recvmsg", -received, describeErrno(-received), `fd ${socketFd}`);

  const { fds, sender } = readControlMessages();
  const flags = arenaView.getInt32(MESSAGE + MSGHDR.flags, true);
  const kept = fds.slice(0, wanted);
  for (const fd of fds.slice(wanted)) closeFd(fd);
  return { fds: kept, bytes: received, extra: fds.length > wanted || (flags & MSG_CTRUNC) !== 0, sender };
}

/** receiveFds for QEMU's protocol: one fd; any beyond it are closed. */
export function receiveFd(socketFd: number): ReceivedFd {
  const { fds, bytes, extra, sender } = receiveFds(socketFd, 1);
  return { fd: fds[0] ?? null, bytes, extra, sender };
}

/** The fds (SCM_RIGHTS) and credentials (SCM_CREDENTIALS) the last recvmsg left in the arena. */
function readControlMessages(): { fds: number[]; sender: ReceivedFd["sender"] } {
  const controlLength = Number(arenaView.getBigUint64(MESSAGE + MSGHDR.controlLength, true));
  const fds: number[] = [];
  let sender: ReceivedFd["sender"] = null;
  for (const { level, type, data, dataLength } of controlMessages(arenaView, CONTROL, controlLength)) {
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let at = 0; at + 4 <= dataLength; at += 4) fds.push(arenaView.getInt32(data + at, true));
    } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS && dataLength >= 12) {
      // struct ucred: pid_t pid, uid_t uid, gid_t gid
      sender = { pid: arenaView.getInt32(data, true), uid: arenaView.getUint32(data + 4, true), gid: arenaView.getUint32(data + 8, true) };
    }
  }
  return { fds, sender };
}
