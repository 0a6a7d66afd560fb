// Running commands from tests: captured output, and failures that show what the command said.

export interface RunResult {
  exitCode: number;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, never throwing for its exit status. */
export async function run(cmd: string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<RunResult> {
  const child = Bun.spawn({
    cmd,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, signal: child.signalCode === null ? null : String(child.signalCode), stdout, stderr };
}

/** Runs a command and returns its stdout; throws with its stderr on a non-zero exit. */
export async function runOk(cmd: string[], options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<string> {
  const result = await run(cmd, options);
  if (result.exitCode !== 0) {
    throw new Error(`${cmd.join(" ")} exited ${result.exitCode}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
