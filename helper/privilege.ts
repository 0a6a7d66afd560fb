// The helper's check, before it reads anything, that it runs as the exec shim left it, holding no more than creating a TAP needs.
import type { ConsolaInstance } from "consola";
import type { ThreadCredentials } from "../shared/credentials.ts";
import { CAP_NET_ADMIN_MASK, CredentialsUnreadable, describeCredentials, readThreadCredentials } from "../shared/credentials.ts";
import { StepError } from "../shared/errors.ts";
import { reportStepError } from "../shared/log.ts";

const HINT =
  "run the installed exec shim PREFIX/libexec/tap-bridge-helper, never the .bun file, and never give a Bun " +
  "executable the setuid bit or file capabilities: as root, `tap-launcher install`, then `tap-launcher doctor`";
const UNREADABLE =
  "the helper reads its own credentials in /proc/self/task: it needs /proc mounted and a few free file descriptors (ulimit -n)";

/** Whether every id in `ids` is the first; not Array#some (docs/benchmarks.md, "First uses"). */
function allEqual(ids: readonly number[]): boolean {
  for (const id of ids) if (id !== ids[0]) return false;
  return true;
}

/** Why these threads must not go on, or null: but for root, each must be as the shim leaves it (docs/design.md, "The privileged path"). */
export function privilegeProblem(threads: readonly ThreadCredentials[]): string | null {
  if (threads.length === 0) return "refusing to run: no thread's credentials could be read";
  for (const thread of threads) {
    const [uid] = thread.uids;
    if (!allEqual(thread.uids) || !allEqual(thread.gids)) {
      return `refusing to run with mixed ids (thread ${thread.tid}: ${describeCredentials(thread)})`;
    }
    if (uid === 0) continue;
    if (((thread.permitted | thread.effective | thread.ambient) & ~CAP_NET_ADMIN_MASK) !== 0n) {
      return `refusing to run with capabilities beyond CAP_NET_ADMIN (thread ${thread.tid}: ${describeCredentials(thread)})`;
    }
    if (!thread.noNewPrivs || (thread.ambient & CAP_NET_ADMIN_MASK) === 0n) {
      return `refusing to run without the exec shim's restrictions, no_new_privs and an ambient CAP_NET_ADMIN (thread ${thread.tid}: ${describeCredentials(thread)})`;
    }
  }
  return null;
}

/** The caller's credentials once every thread passed privilegeProblem, what cannot be read denying; null when refused, said. */
export function verifiedCredentials(log: ConsolaInstance, readThreads = readThreadCredentials): ThreadCredentials | null {
  try {
    const threads = readThreads();
    const problem = privilegeProblem(threads);
    if (problem !== null) throw new StepError(problem, { hint: HINT });
    const [first] = threads;
    if (first === undefined) throw new StepError("refusing to run: no thread's credentials could be read", { hint: HINT });
    return first;
  } catch (err) {
    if (!(err instanceof StepError || err instanceof CredentialsUnreadable)) throw err;
    const unreadable = () => new StepError(`refusing to run: cannot verify the helper's privileges: ${err.message}`, { hint: UNREADABLE });
    reportStepError(log, err instanceof StepError ? err : unreadable());
    return null;
  }
}
