// A private /dev for one command (tmpfs: a 0666 tun node, null, zero, random) whose /dev/log is a datagram socket the test reads.
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { EAGAIN } from "../../shared/errno.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK } from "../../shared/kernel.ts";
import { closeFd, openSocket, readOrErrno } from "../../shared/libc.ts";
import { bindSocket } from "./socket-calls.ts";
import { tempFolder } from "./build.ts";
import { inPrivateMountNamespace } from "./mount-ns.ts";

/** A bound unix datagram socket standing in for syslog's /dev/log; `lines()` drains what arrived. */
export class SyslogSink {
  readonly path: string;
  #fd: number;

  constructor() {
    const folder = tempFolder("tl-log-");
    chmodSync(folder, 0o755);
    this.path = join(folder, "log");
    this.#fd = openSocket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
    const address = new Uint8Array(110);
    new DataView(address.buffer).setUint16(0, AF_UNIX, true);
    address.set(Buffer.from(this.path), 2);
    bindSocket(this.#fd, address, this.path);
    // Anyone may send, as to the real /dev/log.
    chmodSync(this.path, 0o666);
  }

  /** Every datagram received since the last call, in order. */
  lines(): string[] {
    const out: string[] = [];
    const buffer = new Uint8Array(8192);
    for (;;) {
      const n = readOrErrno(this.#fd, buffer);
      if (n === -EAGAIN) return out;
      if (n < 0) throw new Error(`reading the syslog sink failed: errno ${-n}`);
      out.push(Buffer.from(buffer.subarray(0, n)).toString("utf8"));
    }
  }

  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }
}

/**
 * argv prefix for a new mount namespace whose /dev is a private tmpfs with a 0666 /dev/net/tun (as
 * on a standard distribution), null, zero, random and urandom, and, when `logSocket` is given, that
 * socket as /dev/log; without it there is no /dev/log. The host's /dev is never changed.
 */
export function privateDevPrefix(logSocket: string | null): string[] {
  const script = [
    "mount -t tmpfs -o mode=0755,size=64k tl-dev /dev",
    "mkdir /dev/net",
    "mknod -m 0666 /dev/net/tun c 10 200",
    "mknod -m 0666 /dev/null c 1 3",
    "mknod -m 0666 /dev/zero c 1 5",
    "mknod -m 0666 /dev/random c 1 8",
    "mknod -m 0666 /dev/urandom c 1 9",
    'if [ -n "$1" ]; then touch /dev/log && mount --bind "$1" /dev/log; fi',
    'shift && exec "$@"',
  ].join(" && ");
  return inPrivateMountNamespace(script, logSocket ?? "");
}
