// A stand-in syslog daemon on a unix socket, healthy but not fast, run as its own process: `bun syslog-daemon.ts PATH dgram|stream`.
// Binds PATH (mode 0666, as /dev/log), prints "ready", then one JSON line per record it reads whose text holds
// "tap-bridge-helper[": {"line": text, "end": "datagram"|"nul"|"newline"|"eof"} (how the record ended), and for a
// datagram the sender as the kernel attests it (SCM_CREDENTIALS, as journald's _PID/_UID and rsyslog's trusted
// properties come): "pid", "uid". Other records are only counted. It reads at most about 10 records per millisecond,
// as a daemon that also writes them out would.
import { chmodSync, writeSync } from "node:fs";
import { controlMessages } from "../../shared/fd-receive.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, SOL_SOCKET } from "../../shared/kernel.ts";
import { SCM_CREDENTIALS, SO_PASSCRED } from "../../shared/kernel-launcher.ts";
import { addressOf, openSocket } from "../../shared/libc.ts";
import { receiveMessageOrErrno } from "../../shared/libc-launcher.ts";
import { IOVEC, MSGHDR } from "../../shared/msghdr.ts";
import { bindSocket, setSocketOptionInt } from "./socket-calls.ts";

const [path = "", kind = "dgram"] = process.argv.slice(2);
/** Records read between two pauses of a millisecond. */
const RECORDS_PER_PAUSE = 10;
let sincePause = 0;

function record(line: string, end: string, sender: { pid: number; uid: number } | null = null): void {
  if (line.includes("tap-bridge-helper[")) writeSync(1, `${JSON.stringify({ line, end, ...sender })}\n`);
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
  setSocketOptionInt(fd, SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", 1);
  writeSync(1, "ready\n");
  // One long-lived buffer: msghdr at 0, its iovec at 64, control messages at 128, the datagram from 1024.
  const arena = new Uint8Array(66_560);
  const view = new DataView(arena.buffer);
  const base = addressOf(arena);
  for (;;) {
    view.setBigUint64(MSGHDR.iov, BigInt(base + 64), true);
    view.setBigUint64(MSGHDR.iovLength, 1n, true);
    view.setBigUint64(MSGHDR.control, BigInt(base + 128), true);
    view.setBigUint64(MSGHDR.controlLength, 512n, true);
    view.setBigUint64(64 + IOVEC.base, BigInt(base + 1024), true);
    view.setBigUint64(64 + IOVEC.length, 65_536n, true);
    const n = receiveMessageOrErrno(fd, arena, 0);
    if (n < 0) continue;
    let sender: { pid: number; uid: number } | null = null;
    for (const message of controlMessages(view, 128, Number(view.getBigUint64(MSGHDR.controlLength, true)))) {
      // struct ucred: pid_t pid, uid_t uid, gid_t gid
      if (message.level === SOL_SOCKET && message.type === SCM_CREDENTIALS)
        sender = { pid: view.getInt32(message.data, true), uid: view.getUint32(message.data + 4, true) };
    }
    record(Buffer.from(arena.subarray(1024, 1024 + n)).toString("utf8"), "datagram", sender);
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
