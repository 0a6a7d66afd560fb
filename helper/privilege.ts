// The helper's check, before it reads anything, that no thread holds more than creating a TAP needs.
import { CAP_NET_ADMIN_MASK, describeCredentials, readThreadCredentials } from "../shared/credentials.ts";
import { StepError } from "../shared/errors.ts";

/**
 * Linux keeps credentials per thread and Bun starts threads before any of our code runs, so the
 * helper cannot drop privilege for the whole process itself; the installed exec shim (helper/shim.c)
 * does it, single-threaded, before exec. This verifies the result on every thread: user ids all
 * equal, group ids all equal and, unless the caller is root itself, nothing beyond CAP_NET_ADMIN.
 * A failure means the Bun executable itself was made setuid or given capabilities, which lets any
 * user run code as root through BUN_OPTIONS: the helper refuses to go on.
 * Returns a description of the credentials. throws StepError.
 */
export function checkLeastPrivilege(): string {
  const threads = readThreadCredentials();
  const hint = "never give the Bun executable the setuid bit or file capabilities: install with `tap-launcher install` and run `tap-launcher doctor`";
  for (const thread of threads) {
    const [uid] = thread.uids;
    if (thread.uids.some((id) => id !== uid) || thread.gids.some((id) => id !== thread.gids[0])) {
      throw new StepError(`refusing to run with mixed ids (thread ${thread.tid}: ${describeCredentials(thread)})`, { hint });
    }
    const beyond = (thread.permitted | thread.effective | thread.ambient) & ~CAP_NET_ADMIN_MASK;
    if (uid !== 0 && beyond !== 0n) {
      throw new StepError(`refusing to run with capabilities beyond CAP_NET_ADMIN (thread ${thread.tid}: ${describeCredentials(thread)})`, { hint });
    }
  }
  const first = threads[0];
  return first === undefined ? "no threads readable" : `${threads.length} threads, each ${describeCredentials(first)}`;
}
