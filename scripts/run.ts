// Running a command to completion from scripts: its stdout, or an error carrying its stderr.

/** Runs `cmd`; returns stdout, throws with stderr on a non-zero exit. */
export async function runOk(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const child = Bun.spawn({ cmd, stdin: "ignore", stdout: "pipe", stderr: "pipe", ...options });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${exitCode}: ${stderr.trim()}`);
  return stdout;
}
