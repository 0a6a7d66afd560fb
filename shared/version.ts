// The version both programs print with --version and the man pages show: package.json's, baked in by scripts/build.ts.
import { readFileSync } from "node:fs";

declare const TAP_BUILD_VERSION: string | undefined;
export const VERSION: string = typeof TAP_BUILD_VERSION === "string" ? TAP_BUILD_VERSION : sourceVersion();

/**
 * package.json's, for code run from source. A compiled program never reads it: with --bytecode its
 * import.meta names the build machine's tree, so one built without the define stops here instead.
 */
function sourceVersion(): string {
  if (Bun.main.startsWith("/$bunfs/")) throw new Error("built without TAP_BUILD_VERSION: build it with `bun run build`");
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}
