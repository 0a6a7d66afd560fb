// The credentials of every thread of this process, as /proc/self/task/*/status reports them.
import { errorCode } from "./errors.ts";
import { O_CLOEXEC, O_DIRECTORY, O_RDONLY } from "./kernel.ts";
import { isDecimal, isLowerHex, latin1Text } from "./text.ts";
import { closeFd, directoryNames, openPath, readToEnd } from "./libc.ts";

/** CAP_NET_ADMIN (12, <linux/capability.h>) as a bit of a capability set. */
export const CAP_NET_ADMIN_MASK = 1n << 12n;

/** A status file this process cannot trust: a check built on it must deny. */
export class CredentialsUnreadable extends Error {
  override name = "CredentialsUnreadable";
}

/** One thread's credentials from the text of its status file. throws CredentialsUnreadable. */
export function parseThreadStatus(tid: string, status: string) {
  const file = `/proc/self/task/${tid}/status`;
  const malformed = (name: string, text: string) =>
    new CredentialsUnreadable(`${file} has a malformed ${name} field: ${JSON.stringify(text)}`);
  // A missing field throws, never reads as empty or zero. No RegExps, no array callbacks: see shared/text.ts.
  const field = (name: string): string => {
    const start = `\n${status}`.indexOf(`\n${name}:`);
    if (start < 0) throw new CredentialsUnreadable(`${file} has no ${name} field`);
    const end = status.indexOf("\n", start);
    return status.slice(start + name.length + 1, end < 0 ? status.length : end).trim();
  };
  const ids = (name: string, count: number): number[] => {
    const text = field(name);
    const words = text === "" ? [] : text.replaceAll("\t", " ").split(" ");
    const values: number[] = [];
    for (const word of words) if (isDecimal(word)) values.push(Number(word));
    if (values.length < count || values.length !== words.length) throw malformed(name, text);
    return values;
  };
  const capabilities = (name: string): bigint => {
    const text = field(name);
    if (text.length > 16 || !isLowerHex(text)) throw malformed(name, text);
    return BigInt(`0x${text}`);
  };
  const noNewPrivs = field("NoNewPrivs");
  if (noNewPrivs !== "0" && noNewPrivs !== "1")
    throw new CredentialsUnreadable(`${file} has a malformed NoNewPrivs field: ${JSON.stringify(noNewPrivs)}`);
  return {
    tid: Number(tid),
    uids: ids("Uid", 4), // real, effective, saved and filesystem
    gids: ids("Gid", 4),
    groups: ids("Groups", 0),
    permitted: capabilities("CapPrm"),
    effective: capabilities("CapEff"),
    ambient: capabilities("CapAmb"),
    bounding: capabilities("CapBnd"),
    noNewPrivs: noNewPrivs === "1",
  };
}
export type ThreadCredentials = ReturnType<typeof parseThreadStatus>;

/** A status file is under 2 KiB but for Groups (65,536 at most); one cut here lacks the later fields, which denies. */
const STATUS_LIMIT = 1 << 20;

/** Each thread's, but one that ended meanwhile (ENOENT, ESRCH). throws CredentialsUnreadable (deny) on any other failure, or none. */
export function readThreadCredentials(taskFolder = "/proc/self/task"): ThreadCredentials[] {
  let tids: string[];
  try {
    tids = withOpenPath(taskFolder, O_DIRECTORY, (fd) => directoryNames(fd, taskFolder));
  } catch (err) {
    throw new CredentialsUnreadable(`cannot list ${taskFolder}: ${errorCode(err)}`);
  }
  const threads: ThreadCredentials[] = [];
  for (const tid of tids) {
    let status: Uint8Array;
    try {
      status = withOpenPath(`${taskFolder}/${tid}/status`, 0, (fd) => readToEnd(fd, 4096, STATUS_LIMIT, tid));
    } catch (err) {
      const code = errorCode(err);
      if (code === "ENOENT" || code === "ESRCH") continue;
      throw new CredentialsUnreadable(`cannot read ${taskFolder}/${tid}/status: ${code}`);
    }
    threads.push(parseThreadStatus(tid, latin1Text(status)));
  }
  if (threads.length === 0) throw new CredentialsUnreadable(`no thread's status could be read in ${taskFolder}`);
  return threads;
}

/** `action` on `path` opened read-only with `flags`, closed after. throws SysError. */
function withOpenPath<T>(path: string, flags: number, action: (fd: number) => T): T {
  const fd = openPath(path, O_RDONLY | O_CLOEXEC | flags);
  try {
    return action(fd);
  } finally {
    closeFd(fd);
  }
}

/** `uid 1000 gid 1000 groups [27] CapEff 0x1000` for messages. */
export function describeCredentials(thread: ThreadCredentials): string {
  return (
    `uid ${thread.uids.join("/")} gid ${thread.gids.join("/")} groups [${thread.groups.join(",")}] ` +
    `CapPrm 0x${thread.permitted.toString(16)} CapEff 0x${thread.effective.toString(16)} ` +
    `CapAmb 0x${thread.ambient.toString(16)} NoNewPrivs ${thread.noNewPrivs ? 1 : 0}`
  );
}
