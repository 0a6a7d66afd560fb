// A private /dev for one command (tmpfs: a 0666 tun node, null, zero, random) whose /dev/log is a datagram socket the test reads.
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { EAGAIN } from "../../shared/errno.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from "../../shared/kernel.ts";
import { SOCK_NONBLOCK } from "../../shared/kernel-launcher.ts";
import { closeFd, openSocket, readOrErrno } from "../../shared/libc.ts";
import { sendToSyslog } from "../../shared/syslog.ts";
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

/** A record the stand-in daemon read: its text, and how it ended (see syslog-daemon.ts). */
export interface DaemonRecord {
  line: string;
  end: "datagram" | "nul" | "newline" | "eof";
  /** A datagram's sender, as the kernel attests it (SCM_CREDENTIALS). */
  pid?: number;
  uid?: number;
}

/** Reads a child's stdout to the end in the background; `next()` waits for the text to hold `marker`. */
class OutputReader {
  text = "";
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
    })();
  }

  async waitFor(marker: string, what: string): Promise<void> {
    for (const until = Date.now() + 20_000; !this.text.includes(marker); await Bun.sleep(5)) {
      if (Date.now() > until) throw new Error(`${what}: not seen within 20 s: ${JSON.stringify(this.text)}`);
    }
  }
}

/** The record SyslogDaemon.stop() sends last (the daemon shows only records with this tag). */
const DRAINED = "tap-bridge-helper[0]: drained";

/**
 * tests/support/syslog-daemon.ts as its own process on a fresh socket: a syslog daemon that keeps
 * reading (about 10 records a millisecond) while a test floods it. `stop()` returns the helper's records.
 */
export class SyslogDaemon {
  private constructor(
    readonly path: string,
    private readonly child: Bun.Subprocess<"ignore", "pipe", "inherit">,
    private readonly output: OutputReader,
  ) {}

  static async start(kind: "dgram" | "stream"): Promise<SyslogDaemon> {
    const folder = tempFolder("tl-log-");
    chmodSync(folder, 0o755);
    const path = join(folder, "log");
    const child = Bun.spawn({
      cmd: [process.execPath, join(import.meta.dir, "syslog-daemon.ts"), path, kind],
      stdio: ["ignore", "pipe", "inherit"],
    });
    const output = new OutputReader(child.stdout);
    await output.waitFor("ready\n", "the syslog daemon starting");
    return new SyslogDaemon(path, child, output);
  }

  #stopped: Promise<DaemonRecord[]> | null = null;

  /** Stops it (once; later calls return the same) and returns every record of the helper's it read. */
  stop(): Promise<DaemonRecord[]> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<DaemonRecord[]> {
    // A last record, read after every one sent before it: then nothing is left in the socket.
    if (this.child.exitCode === null && sendToSyslog(`<14>${DRAINED}`, this.path, 10_000)) await this.output.waitFor(DRAINED, "draining");
    this.child.kill("SIGKILL");
    await this.child.exited;
    await this.output.done;
    return this.output.text
      .split("\n")
      .slice(1, -1)
      .map((line) => JSON.parse(line) as DaemonRecord)
      .filter((record) => !record.line.endsWith(DRAINED));
  }
}

/**
 * tests/support/syslog-flood.ts run with `prefix` (a private /dev whose /dev/log is the daemon's, and
 * a user), writing /dev/log as fast as the daemon reads; kill it when done.
 */
export async function startSyslogFlood(prefix: string[]): Promise<Bun.Subprocess<"ignore", "pipe", "inherit">> {
  const child = Bun.spawn({
    cmd: [...prefix, process.execPath, join(import.meta.dir, "syslog-flood.ts"), "/dev/log"],
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new OutputReader(child.stdout).waitFor("ready\n", "the flood starting");
  return child;
}
