// A stand-in syslog daemon on a unix socket, healthy but not fast, run as its own process: `bun syslog-daemon.ts PATH dgram|stream`.
// Binds PATH (mode 0666, as /dev/log), prints "ready", then one JSON line per record it reads whose text holds
// "tap-bridge-helper[": {"line": text, "end": "datagram"|"nul"|"newline"|"eof"} (how the record ended). Other records are
// only counted. It reads at most about 10 records per millisecond, as a daemon that also writes them out would.
import { chmodSync, writeSync } from "node:fs";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from "../../shared/kernel.ts";
import { openSocket, readOrErrno } from "../../shared/libc.ts";
import { bindSocket } from "./socket-calls.ts";

const [path = "", kind = "dgram"] = process.argv.slice(2);
/** Records read between two pauses of a millisecond. */
const RECORDS_PER_PAUSE = 10;
let sincePause = 0;

function record(line: string, end: string): void {
  if (line.includes("tap-bridge-helper[")) writeSync(1, `${JSON.stringify({ line, end })}\n`);
  sincePause += 1;
  if (sincePause >= RECORDS_PER_PAUSE) {
    sincePause = 0;
    Bun.sleepSync(1);
  }
}

if (kind === "dgram") {
  const fd = openSocket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC);
  const address = new Uint8Array(110);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(Buffer.from(path), 2);
  bindSocket(fd, address, path);
  chmodSync(path, 0o666);
  writeSync(1, "ready\n");
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = readOrErrno(fd, buffer);
    if (n >= 0) record(Buffer.from(buffer.subarray(0, n)).toString("utf8"), "datagram");
  }
} else {
  // syslog-ng's unix-stream framing: a record ends at a NUL or a newline (or when the sender closes).
  const pending = new Map<object, string>();
  Bun.listen<undefined>({
    unix: path,
    socket: {
      data(socket, data) {
        let text = (pending.get(socket) ?? "") + data.toString("utf8");
        for (let end = text.search(/[\0\n]/); end >= 0; end = text.search(/[\0\n]/)) {
          record(text.slice(0, end), text[end] === "\0" ? "nul" : "newline");
          text = text.slice(end + 1);
        }
        pending.set(socket, text);
      },
      close(socket) {
        const rest = pending.get(socket) ?? "";
        if (rest !== "") record(rest, "eof");
        pending.delete(socket);
      },
    },
  });
  chmodSync(path, 0o666);
  writeSync(1, "ready\n");
}
