// mkfifo for tests (node:fs has none).
import { spawnSync } from "bun";

export function mkfifoSync(path: string): void {
  const result = spawnSync(["mkfifo", path]);
  if (result.exitCode !== 0) throw new Error(`mkfifo ${path} failed`);
}
