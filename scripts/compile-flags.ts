// How `bun build` compiles the program (scripts/build.ts), and so also what a test or benchmark compiles to compare with it.

/**
 * --bytecode: JavaScriptCore starts from precompiled bytecode, not source (measured: the helper's start
 * falls from ~14 to ~11 ms). It needs entries without top-level await.
 * --splitting (which needs --format=esm): each program's modules are chunks of their own, loaded when
 * its branch imports them; in one script, the helper's start loaded the launcher's code too (~0.8 ms
 * of its ~10, measured with docs/benchmarks.md's step marks).
 * Every --no-compile-autoload-* flag: a compiled program never reads a bunfig.toml, .env,
 * tsconfig.json or package.json from the directory it is started in.
 */
export const COMPILE_FLAGS = [
  "--compile",
  "--bytecode",
  "--splitting",
  "--format=esm",
  "--target=bun",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
] as const;
