// One line to the system log through /dev/log (RFC 3164 datagrams, as syslog(3) sends them), without ever blocking long.
import { SysError } from "./errors.ts";
import { EAGAIN, ECONNREFUSED, EINTR, ENOENT } from "./errno.ts";
import { AF_UNIX, POLLOUT, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "./kernel.ts";
import { closeFd, connectOrErrno, describeErrno, openSocket, pollOneOrErrno, writeOrErrno } from "./libc.ts";

export const SYSLOG_SOCKET = "/dev/log";

// <sys/syslog.h>
export const LOG_AUTHPRIV = 10 << 3;
export const LOG_WARNING = 4;
export const LOG_INFO = 6;

/** How long a full log socket may hold the caller up before the line is given up. */
const SEND_WAIT_MS = 1000;
/** struct sockaddr_un: u16 sun_family, char sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `<86>Nov 21 16:04:05 tag[pid]: message`, the form syslog(3) sends (local time, day padded with a blank). */
export function formatSyslogLine(priority: number, tag: string, pid: number, message: string, at: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, " ")} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  return `<${priority}>${stamp} ${tag}[${pid}]: ${message}`;
}

function socketAddress(path: string): Uint8Array {
  const address = new Uint8Array(SOCKADDR_UN_SIZE);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(Buffer.from(path, "utf8").subarray(0, SOCKADDR_UN_SIZE - 3), 2);
  return address;
}

/**
 * Sends `line` as one datagram to the log socket. Returns false when there is no log socket to
 * send to (no /dev/log, or nothing listening: ENOENT, ECONNREFUSED), which is not an error.
 * throws SysError for any other failure, EAGAIN when the socket stayed full for SEND_WAIT_MS.
 */
export function sendToSyslog(line: string, socketPath = SYSLOG_SOCKET): boolean {
  const fd = openSocket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
  try {
    const connected = connectOrErrno(fd, socketAddress(socketPath));
    if (connected === -ENOENT || connected === -ECONNREFUSED) return false;
    if (connected < 0) throw new SysError("connect", -connected, describeErrno(-connected), socketPath);
    const datagram = Buffer.from(line, "utf8");
    for (let waited = false; ; waited = true) {
      const sent = writeOrErrno(fd, datagram);
      if (sent >= 0) return true;
      if (sent === -EINTR) continue;
      if (sent !== -EAGAIN || waited) throw new SysError("send", -sent, describeErrno(-sent), socketPath);
      pollOneOrErrno(fd, POLLOUT, SEND_WAIT_MS);
    }
  } finally {
    closeFd(fd);
  }
}
