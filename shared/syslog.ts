// One line to the system log through /dev/log (RFC 3164, as syslog(3) sends it: a datagram, or a NUL-ended record on a stream socket), within a deadline.
import { SysError } from "./errors.ts";
import { EAGAIN, ECONNREFUSED, EINTR, ENOENT, EPROTOTYPE, ETIMEDOUT } from "./errno.ts";
import { AF_UNIX, MSG_NOSIGNAL, SO_SNDTIMEO, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET } from "./kernel.ts";
import { closeFd, connectOrErrno, describeErrno, openSocket, sendOrErrno, setSocketOption } from "./libc.ts";

export const SYSLOG_SOCKET = "/dev/log";
// <sys/syslog.h>
export const LOG_AUTHPRIV = 10 << 3;
export const LOG_WARNING = 4;
export const LOG_INFO = 6;
/** How long, connecting and sending together, the log socket may hold the caller up before the line is given up. */
export const SEND_WAIT_MS = 1000;
/** struct sockaddr_un: u16 sun_family, char sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `<86>Nov 21 16:04:05 tag[pid]: message`, the form syslog(3) sends (local time, day padded with a blank). */
export function formatSyslogLine(priority: number, tag: string, pid: number, message: string, at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, " ")} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  return `<${priority}>${stamp} ${tag}[${pid}]: ${message}`;
}

// struct timeval for SO_SNDTIMEO: i64 tv_sec, i64 tv_usec; one, reused.
const timeval = new Uint8Array(16);
const timevalView = new DataView(timeval.buffer);

/**
 * Runs a blocking connect or send with SO_SNDTIMEO at what is left until `deadline` (-ETIMEDOUT past it), again after
 * EINTR or a time-out cut short. The kernel wakes the senders queued on a full log socket in turn, one per datagram
 * read, so the line takes its turn among anyone flooding it for as long as the deadline allows.
 */
function untilDeadline(fd: number, deadline: number, call: () => number): number {
  for (;;) {
    const leftUs = Math.ceil((deadline - performance.now()) * 1000);
    if (leftUs <= 0) return -ETIMEDOUT; // a zero timeval would mean no time-out at all
    timevalView.setBigInt64(0, BigInt(Math.floor(leftUs / 1_000_000)), true);
    timevalView.setBigInt64(8, BigInt(leftUs % 1_000_000), true);
    setSocketOption(fd, SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO", timeval);
    const result = call();
    if (result !== -EAGAIN && result !== -EINTR) return result;
  }
}

/**
 * A socket connected to `socketPath` (close it): a datagram one as syslog(3) tries first, else a stream (EPROTOTYPE: syslog-ng's
 * unix-stream). Or minus errno: ENOENT, ECONNREFUSED (no system log), EACCES, ETIMEDOUT (a stream's backlog full until `deadline`).
 */
export function connectToSyslog(socketPath: string, deadline: number): { fd: number; stream: boolean } | number {
  const address = new Uint8Array(SOCKADDR_UN_SIZE);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(Buffer.from(socketPath, "utf8").subarray(0, SOCKADDR_UN_SIZE - 3), 2);
  for (const type of [SOCK_DGRAM, SOCK_STREAM]) {
    const fd = openSocket(AF_UNIX, type | SOCK_CLOEXEC);
    let connected = -1;
    try {
      connected = untilDeadline(fd, deadline, () => connectOrErrno(fd, address));
    } finally {
      if (connected < 0) closeFd(fd);
    }
    if (connected >= 0) return { fd, stream: type === SOCK_STREAM };
    if (connected !== -EPROTOTYPE) return connected;
  }
  return -EPROTOTYPE;
}

/**
 * Writes `line` as one record, trying for `waitMs`: false when there is no system log (not an error), true when the
 * socket took it all (a daemon may still drop it: rate limits). throws SysError(ETIMEDOUT: full until then, EACCES, ...).
 */
export function sendToSyslog(line: string, socketPath = SYSLOG_SOCKET, waitMs = SEND_WAIT_MS): boolean {
  const timedOut = `the log socket took nothing for ${waitMs / 1000} s`;
  const failure = (call: string, errno: number) =>
    new SysError(call, errno, errno === ETIMEDOUT ? timedOut : describeErrno(errno), socketPath);
  const deadline = performance.now() + waitMs;
  const connected = connectToSyslog(socketPath, deadline);
  if (connected === -ENOENT || connected === -ECONNREFUSED) return false;
  if (typeof connected === "number") throw failure("connect", -connected);
  const { fd, stream } = connected;
  try {
    // On a stream a NUL ends the record, as syslog(3) sends it there (syslog-ng also ends one at a newline).
    const record = Buffer.from(stream ? `${line}\0` : line, "utf8");
    for (let offset = 0; offset < record.byteLength; ) {
      const sent = untilDeadline(fd, deadline, () => sendOrErrno(fd, record.subarray(offset), MSG_NOSIGNAL));
      if (sent < 0) throw failure("send", -sent);
      offset += sent;
    }
    return true;
  } finally {
    closeFd(fd);
  }
}
