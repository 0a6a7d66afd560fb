// The argv prefix that runs a shell script as root in a new, private mount namespace (`unshare -m`): the tests' one way to mount without touching the host.

/**
 * `unshare -m --propagation private sh -c SCRIPT sh ARGS...`: the script sees ARGS as $1, $2, ...;
 * to run a command after it, end the script with `exec "$@"` (after shifting its own arguments off).
 */
export function inPrivateMountNamespace(script: string, ...args: string[]): string[] {
  return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ...args];
}
