// Receiving fds passed over a unix socket with SCM_RIGHTS (the launcher's and the tests' side of fdpass.ts).
import { closeFd, describeErrno } from "./libc.ts";
import { receiveMessageOrErrno } from "./libc-launcher.ts";
import { SysError } from "./errors.ts";
import { EINTR } from "./errno.ts";
import { SCM_RIGHTS, SOL_SOCKET } from "./kernel.ts";
import { MSG_CMSG_CLOEXEC, MSG_CTRUNC, SCM_CREDENTIALS } from "./kernel-launcher.ts";
import { CMSGHDR, cmsgAlign, MessageArena, MSGHDR } from "./msghdr.ts";

const arena = new MessageArena();
const { MESSAGE, DATA_ROOM, CONTROL, CONTROL_ROOM } = MessageArena;

/** One control message found in a received control buffer: where its data is, and how long. */
export interface ControlMessage {
  level: number;
  type: number;
  /** The offset of its data in the view. */
  data: number;
  dataLength: number;
}

/**
 * The control messages in view[start, start + controlLength), as recvmsg left them. Stops at the
 * first header whose length leaves the buffer (the kernel writes none; MSG_CTRUNC says when it cut).
 */
export function* controlMessages(view: DataView, start: number, controlLength: number): Generator<ControlMessage> {
  let offset = 0;
  while (offset + CMSGHDR.size <= controlLength) {
    const length = Number(view.getBigUint64(start + offset + CMSGHDR.length, true));
    if (length < CMSGHDR.size || offset + length > controlLength) return;
    yield {
      level: view.getInt32(start + offset + CMSGHDR.level, true),
      type: view.getInt32(start + offset + CMSGHDR.type, true),
      data: start + offset + CMSGHDR.size,
      dataLength: length - CMSGHDR.size,
    };
    offset += cmsgAlign(length);
  }
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
    arena.layOut(DATA_ROOM, CONTROL_ROOM);
    received = receiveMessageOrErrno(socketFd, arena.bytes.subarray(MESSAGE), MSG_CMSG_CLOEXEC);
  } while (received === -EINTR);
  if (received < 0) throw new SysError("recvmsg", -received, describeErrno(-received), `fd ${socketFd}`);

  const { fds, sender } = readControlMessages();
  const flags = arena.view.getInt32(MESSAGE + MSGHDR.flags, true);
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
  const view = arena.view;
  const controlLength = Number(view.getBigUint64(MESSAGE + MSGHDR.controlLength, true));
  const fds: number[] = [];
  let sender: ReceivedFd["sender"] = null;
  for (const { level, type, data, dataLength } of controlMessages(view, CONTROL, controlLength)) {
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let at = 0; at + 4 <= dataLength; at += 4) fds.push(view.getInt32(data + at, true));
    } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS && dataLength >= 12) {
      // struct ucred: pid_t pid, uid_t uid, gid_t gid
      sender = { pid: view.getInt32(data, true), uid: view.getUint32(data + 4, true), gid: view.getUint32(data + 8, true) };
    }
  }
  return { fds, sender };
}
