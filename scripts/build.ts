// `bun run build`: compiles the programs into standalone executables in dist/ (or $TAP_OUT_DIR), each
// privileged program's exec shim into its shim/ folder with cc, and the man pages into its man/ folder
// with pandoc (scripts/man.ts).
//
// TAP_PREFIX (absolute, default /usr/local) is where the programs will be installed: each shim is
// compiled to execute PREFIX/libexec/NAME.bun, and shim/build.json records the prefix, so that
// `tap-launcher install --prefix=PREFIX` (or --destdir, for a package) places this very shim.
// TAP_ACL_FILE (absolute, default /etc/qemu/bridge.conf) and TAP_POLICY_FILE (absolute, default
// /etc/qemu/bridge-policy.conf) are baked into the programs here, with package.json's version; nothing
// at run time can change them.
import { isAbsolute, join, resolve } from "node:path";
import { copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { COMPILE_FLAGS } from "./compile-flags.ts";
import { buildManPages } from "./man.ts";
import { VERSION } from "../shared/version.ts";
import { PRIVILEGED_PROGRAMS, privilegedFiles } from "../launcher/layout.ts";
import { BUILT_SHIMS, type BuildSettings, compileShim, SAFE_PATH, SHIM_SOURCE } from "../launcher/shim.ts";

const root = resolve(import.meta.dir, "..");
const aclFile = process.env.TAP_ACL_FILE ?? "/etc/qemu/bridge.conf";
const policyFile = process.env.TAP_POLICY_FILE ?? "/etc/qemu/bridge-policy.conf";
const outDir = resolve(process.env.TAP_OUT_DIR ?? join(root, "dist"));
const prefix = process.env.TAP_PREFIX ?? "/usr/local";
if (!SAFE_PATH.test(prefix) || prefix.split("/").includes("..")) {
  console.error(`TAP_PREFIX must be an absolute path of letters, digits and ._+-/ without "..", not ${JSON.stringify(prefix)}`);
  process.exit(1);
}
// Tests build helpers with a short overall deadline (helper/config.ts); an installed helper has 20 s.
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

// One compiled program holds both (scripts/program-entry.ts chooses by argv[0]), so Bun's runtime is
// installed once; dist/NAME of each privileged program is a hard link to it.
// Workers must be entry points of their own to be found inside a compiled executable.
// The flags are scripts/compile-flags.ts's. With --bytecode Bun 1.4.5 gives import.meta the source
// file's path instead of the executable's /$bunfs/ one: code that must know whether it runs compiled
// asks Bun.main (launcher/layout.ts).
const program = join(outDir, "tap-launcher");
mkdirSync(outDir, { recursive: true });
const build = Bun.spawnSync({
  cmd: [
    process.execPath,
    "build",
    ...COMPILE_FLAGS,
    `--define=TAP_BUILD_ACL_FILE=${JSON.stringify(aclFile)}`,
    `--define=TAP_BUILD_POLICY_FILE=${JSON.stringify(policyFile)}`,
    `--define=TAP_BUILD_VERSION=${JSON.stringify(VERSION)}`,
    ...(deadline === undefined ? [] : [`--define=TAP_BUILD_HELPER_DEADLINE_S=${JSON.stringify(deadline)}`]),
    join(root, "scripts", "program-entry.ts"),
    join(root, "launcher", "datapath", "worker.ts"),
    join(root, "helper", "watchdog.ts"),
    `--outfile=${program}`,
  ],
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (build.exitCode !== 0) process.exit(build.exitCode ?? 1);
console.log(`built ${program} (ACL file ${aclFile}, policy file ${policyFile})`);
for (const { name } of PRIVILEGED_PROGRAMS) {
  const link = join(outDir, name);
  rmSync(link, { force: true });
  linkSync(program, link);
  console.log(`built ${link} (the same program, run as ${name})`);
}

// Each shim executes the program's installed path under PREFIX: it is the file a package ships and a
// postinst (or `tap-launcher grant`) makes privileged.
// The source goes with them: `tap-launcher install` for another prefix compiles it from there, so the
// launcher itself holds nothing of helper/.
const shimDir = join(outDir, BUILT_SHIMS);
mkdirSync(shimDir, { recursive: true });
const shimSource = join(shimDir, SHIM_SOURCE);
rmSync(shimSource, { force: true });
copyFileSync(join(root, "helper", "shim.c"), shimSource);
try {
  for (const { name } of PRIVILEGED_PROGRAMS) {
    const { helper } = privilegedFiles(resolve(prefix), name);
    compileShim(shimSource, name, helper, join(shimDir, name));
    console.log(`built ${join(shimDir, name)} (executes ${helper})`);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const settings: BuildSettings = { prefix: resolve(prefix) };
writeFileSync(join(shimDir, "build.json"), `${JSON.stringify(settings)}\n`);

try {
  for (const file of buildManPages(outDir, { aclFile, policyFile })) console.log(`built ${file}`);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

// The bash completion goes with the man pages, under the name bash-completion looks for.
mkdirSync(join(outDir, "completions"), { recursive: true });
copyFileSync(join(root, "completions/tap-launcher.bash"), join(outDir, "completions/tap-launcher"));
console.log(`built ${join(outDir, "completions/tap-launcher")}`);
