// The version both programs print with --version and the man pages show: package.json's, baked in by scripts/build.ts.
import { readFileSync } from "node:fs";

declare const TAP_BUILD_VERSION: string | undefined;

/** Run from source (tests, scripts), package.json is read; a built program never reads it. */
export const VERSION: string =
  typeof TAP_BUILD_VERSION === "string"
    ? TAP_BUILD_VERSION
    : (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
