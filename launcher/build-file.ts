// Reading a build's files as root: through a descriptor opened without following a link, so what is checked is what is read.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { StepError } from "../shared/errors.ts";

const CHUNK_BYTES = 1 << 20;

/**
 * Opens `source` read-only without following a symbolic link (O_NOFOLLOW) nor waiting on a FIFO
 * (O_NONBLOCK), and checks on the open file (fstat) that it is a regular file: a link swapped in
 * after any earlier check is refused here, not followed. Returns the fd. throws StepError.
 */
export function openBuildFile(source: string): number {
  let fd: number;
  try {
    fd = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ELOOP") throw refused(source, "it is a symbolic link");
    throw new StepError(`failed to open ${source}: ${code ?? String(err)}`);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw refused(source, "it is not a regular file");
  }
  return fd;
}

function refused(source: string, why: string): StepError {
  return new StepError(`refusing ${source}: ${why}, not a file the build made`, {
    hint: "nothing was installed: rebuild with `bun run build` (its files are regular files, never links)",
  });
}

/** The bytes of the build's file `source`, read through openBuildFile. throws StepError. */
export function readBuildFile(source: string): Buffer {
  const fd = openBuildFile(source);
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.alloc(CHUNK_BYTES);
      const length = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (length === 0) return Buffer.concat(chunks);
      chunks.push(chunk.subarray(0, length));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the build's file `source` (opened by openBuildFile) into `target`, which must not exist
 * (O_EXCL, and no link at that name is followed), mode 0600 until its caller sets the final one.
 * throws StepError.
 */
export function copyBuildFile(source: string, target: string): void {
  const input = openBuildFile(source);
  try {
    const output = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const chunk = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        const length = readSync(input, chunk, 0, CHUNK_BYTES, null);
        if (length === 0) break;
        for (let written = 0; written < length; ) written += writeSync(output, chunk, written, length - written);
      }
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
  }
}
