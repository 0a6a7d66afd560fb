// Floods a syslog socket as fast as the reader takes datagrams, as any local user may: `bun syslog-flood.ts PATH`.
// Blocking sends, so that it waits in the kernel for room and takes every slot the reader frees as soon as it can.
import { writeSync } from "node:fs";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from "../../shared/kernel.ts";
import { connectOrErrno, openSocket, writeOrErrno } from "../../shared/libc.ts";

const [path = ""] = process.argv.slice(2);
const fd = openSocket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC);
const address = new Uint8Array(110);
new DataView(address.buffer).setUint16(0, AF_UNIX, true);
address.set(Buffer.from(path), 2);
const connected = connectOrErrno(fd, address);
if (connected < 0) throw new Error(`connect ${path}: errno ${-connected}`);
const line = Buffer.from(`<13>Dec  6 06:00:00 flood[${process.pid}]: ${"x".repeat(64)}`);
writeSync(1, "ready\n");
for (;;) writeOrErrno(fd, line);
