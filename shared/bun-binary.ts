// Recognising a Bun executable (the runtime or a `bun build --compile` output) by its ELF sections.
import { closeSync, openSync, readSync } from "node:fs";

const BUN_SECTIONS = new Set([".bun", ".bun_builtins"]);

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const n = readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, n);
}

/**
 * True when `path` is a 64-bit little-endian ELF file with a `.bun` or `.bun_builtins` section, as
 * every Bun runtime and compiled program has. Such a file obeys BUN_OPTIONS and BUN_BE_BUN before
 * any of its own code runs, so it must never carry the setuid bit or file capabilities.
 * throws the node:fs error when the file cannot be read.
 */
export function isBunExecutable(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const header = readAt(fd, 0, 64);
    if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const sectionTable = Number(header.readBigUInt64LE(0x28));
    const entrySize = header.readUInt16LE(0x3a);
    const count = header.readUInt16LE(0x3c);
    const namesIndex = header.readUInt16LE(0x3e);
    if (entrySize < 64 || count === 0 || count > 4096 || namesIndex >= count) return false;
    const sections = readAt(fd, sectionTable, entrySize * count);
    if (sections.length < entrySize * count) return false;
    const namesOffset = Number(sections.readBigUInt64LE(namesIndex * entrySize + 0x18));
    const namesSize = Math.min(Number(sections.readBigUInt64LE(namesIndex * entrySize + 0x20)), 1 << 20);
    const names = readAt(fd, namesOffset, namesSize);
    for (let i = 0; i < count; i += 1) {
      const start = sections.readUInt32LE(i * entrySize);
      const end = names.indexOf(0, start);
      if (end > start && BUN_SECTIONS.has(names.toString("latin1", start, end))) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
