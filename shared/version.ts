// The version both programs print with --version and the man pages show: package.json's, baked in by scripts/build.ts.
import { readFileSync } from "node:fs";

declare const TAP_BUILD_VERSION: string | undefined;
export const VERSION: string = typeof TAP_BUILD_VERSION === "string" ? TAP_BUILD_VERSION : sourceVersion();

/** package.json's, from source only: with --bytecode, import.meta names the build machine's tree, so a build without the define stops. */
function sourceVersion(): string {
  if (Bun.main.startsWith("/$bunfs/")) throw new Error("built without TAP_BUILD_VERSION: build it with `bun run build`");
  return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
}
