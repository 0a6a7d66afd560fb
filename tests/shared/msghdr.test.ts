// struct msghdr and cmsghdr: the layout glibc's headers give, the cmsg arithmetic, and reading control messages back.
import { expect, test } from "bun:test";
import { SCM_RIGHTS, SOL_SOCKET } from "../../shared/kernel.ts";
import { SCM_CREDENTIALS } from "../../shared/kernel-launcher.ts";
import { controlMessages } from "../../shared/fd-receive.ts";
import { CMSGHDR, cmsgSpace, MSGHDR, writeControlHeader } from "../../shared/msghdr.ts";

test("sizes and offsets are glibc's on LP64 (offsetof from <sys/socket.h>)", () => {
  expect(MSGHDR).toEqual({ size: 56, name: 0, nameLength: 8, iov: 16, iovLength: 24, control: 32, controlLength: 40, flags: 48 });
  expect(CMSGHDR).toEqual({ size: 16, length: 0, level: 8, type: 12 });
  // CMSG_LEN (the cmsg_len writeControlHeader writes) and CMSG_SPACE for one, two and three ints, as glibc computes them.
  const header = new DataView(new ArrayBuffer(CMSGHDR.size));
  const cmsgLength = (dataBytes: number) => {
    writeControlHeader(header, 0, SOL_SOCKET, SCM_RIGHTS, dataBytes);
    return Number(header.getBigUint64(CMSGHDR.length, true));
  };
  expect([4, 8, 12].map(cmsgLength)).toEqual([20, 24, 28]);
  expect([4, 8, 12].map(cmsgSpace)).toEqual([24, 24, 32]);
});

test("control messages written one after the other are read back with their data, each aligned to 8", () => {
  const buffer = new Uint8Array(128);
  const view = new DataView(buffer.buffer);
  writeControlHeader(view, 0, SOL_SOCKET, SCM_RIGHTS, 12);
  for (const [i, fd] of [7, 8, 9].entries()) view.setInt32(CMSGHDR.size + 4 * i, fd, true);
  const second = cmsgSpace(12);
  writeControlHeader(view, second, SOL_SOCKET, SCM_CREDENTIALS, 12);
  const total = second + cmsgSpace(12);
  const found = [...controlMessages(view, 0, total)];
  expect(found.map(({ level, type, dataLength }) => [level, type, dataLength])).toEqual([
    [SOL_SOCKET, SCM_RIGHTS, 12],
    [SOL_SOCKET, SCM_CREDENTIALS, 12],
  ]);
  expect([0, 4, 8].map((at) => view.getInt32((found[0]?.data ?? 0) + at, true))).toEqual([7, 8, 9]);
  // A header claiming more than the buffer holds ends the walk instead of reading past it.
  view.setBigUint64(second, 4096n, true);
  expect([...controlMessages(view, 0, total)].length).toBe(1);
});
