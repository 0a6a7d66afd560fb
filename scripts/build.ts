// `bun run build`: compiles the programs into standalone executables in dist/ (or $TAP_OUT_DIR), and
// builds the man pages into its man/ folder with pandoc (scripts/man.ts).
//
// TAP_ACL_FILE (absolute, default /etc/qemu/bridge.conf) and TAP_POLICY_FILE (absolute, default
// /etc/qemu/bridge-policy.conf) are baked into the programs here, with package.json's version, and
// TAP_HELPER_DEADLINE_S (the helper's overall deadline, default 20, for tests); nothing at run time
// can change them. Every --no-compile-autoload-* flag is set so that a compiled program
// never reads a bunfig.toml, .env, tsconfig.json or package.json from the directory it is started in.
import { isAbsolute, join, resolve } from "node:path";
import { copyFileSync, mkdirSync } from "node:fs";
import { buildManPages } from "./man.ts";
import { VERSION } from "../shared/version.ts";

const root = resolve(import.meta.dir, "..");
const aclFile = process.env.TAP_ACL_FILE ?? "/etc/qemu/bridge.conf";
const policyFile = process.env.TAP_POLICY_FILE ?? "/etc/qemu/bridge-policy.conf";
const outDir = resolve(process.env.TAP_OUT_DIR ?? join(root, "dist"));
const deadline = process.env.TAP_HELPER_DEADLINE_S;
if (deadline !== undefined && !/^[1-9][0-9]{0,3}$/.test(deadline)) {
  console.error(`TAP_HELPER_DEADLINE_S must be a whole number of seconds from 1 to 9999, not ${JSON.stringify(deadline)}`);
  process.exit(1);
}
for (const [name, path] of [
  ["TAP_ACL_FILE", aclFile],
  ["TAP_POLICY_FILE", policyFile],
] as const) {
  if (!isAbsolute(path) || path.includes("\0")) {
    console.error(`${name} must be an absolute path, not ${JSON.stringify(path)}`);
    process.exit(1);
  }
}

// Workers must be entry points of their own to be found inside a compiled executable.
// --bytecode: JavaScriptCore starts from precompiled bytecode, not source (measured: the helper's
// start falls from ~14 to ~11 ms). It needs entries without top-level await, and with it Bun 1.4.5
// gives import.meta the source file's path instead of the executable's /$bunfs/ one: code that must
// know whether it runs compiled asks Bun.main (launcher/layout.ts).
const programs = [
  { entry: "helper/main.ts", output: "tap-bridge-helper", workers: ["helper/watchdog.ts"] },
  { entry: "helper/user-nic/main.ts", output: "tap-user-nic", workers: ["helper/watchdog.ts"] },
  { entry: "launcher/main.ts", output: "tap-launcher", workers: ["launcher/datapath/worker.ts"] },
];

mkdirSync(outDir, { recursive: true });
for (const { entry, output, workers } of programs) {
  const outfile = join(outDir, output);
  const build = Bun.spawnSync({
    cmd: [
      process.execPath,
      "build",
      "--compile",
      "--bytecode",
      "--target=bun",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      "--no-compile-autoload-tsconfig",
      "--no-compile-autoload-package-json",
      `--define=TAP_BUILD_ACL_FILE=${JSON.stringify(aclFile)}`,
      `--define=TAP_BUILD_POLICY_FILE=${JSON.stringify(policyFile)}`,
      `--define=TAP_BUILD_VERSION=${JSON.stringify(VERSION)}`,
      ...(deadline === undefined ? [] : [`--define=TAP_BUILD_HELPER_DEADLINE_S=${JSON.stringify(deadline)}`]),
      join(root, entry),
      ...workers.map((worker) => join(root, worker)),
      `--outfile=${outfile}`,
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);
  console.log(`built ${outfile} (ACL file ${aclFile}, policy file ${policyFile})`);
}

// The bash completion goes with the man pages, under the name bash-completion looks for.
mkdirSync(join(outDir, "completions"), { recursive: true });
copyFileSync(join(root, "completions/tap-launcher.bash"), join(outDir, "completions/tap-launcher"));
console.log(`built ${join(outDir, "completions/tap-launcher")}`);

try {
  for (const file of buildManPages(outDir, { aclFile, policyFile })) console.log(`built ${file}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
