// `bun run package`: builds dist/tap-launcher_<version>_<arch>.deb, and dist/tap-launcher-qemu-helper_<version>_all.deb and
// dist/tap-launcher-lxc-user-nic_<version>_all.deb (ours at QEMU's and LXC's compiled-in paths), with dpkg-deb.
//
// Why dpkg-deb and not debhelper: the build needs Bun from the npm registry, which no Debian builder
// has, so a `debian/` source package could not be built the Debian way anyway; what is left of
// debhelper's value is laying files out and writing control fields, which `tap-launcher install
// --destdir` (the same code a source install runs) and this script do in plain sight. Debian's own
// tools still do the Debian parts: dpkg-shlibdeps computes Depends from the ELF files,
// dpkg-parsechangelog reads the changelog, dpkg-deb builds with root as the owner of every file (no
// fakeroot), and lintian checks the result (tests/package/). Files here: scripts/package/.
//
// The shim is compiled now (`bun run build` with TAP_PREFIX=/usr), so the target needs no compiler;
// the postinst makes it privileged. Settings: TAP_OUT_DIR (default dist/) for the .deb files.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { lstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PRIVILEGED_PROGRAMS, privilegedFiles } from "../launcher/layout.ts";
import { VERSION } from "../shared/version.ts";

const root = resolve(import.meta.dir, "..");
const files = join(root, "scripts", "package");
const outDir = resolve(process.env.TAP_OUT_DIR ?? join(root, "dist"));
const PREFIX = "/usr";
const ACL_FILE = "/etc/qemu/bridge.conf";
const POLICY_FILE = "/etc/qemu/bridge-policy.conf";
/** QEMU's compiled-in default helper on Debian (CONFIG_QEMU_HELPERDIR), qemu-system-common's file. */
const QEMU_HELPER = "/usr/lib/qemu/qemu-bridge-helper";
/** LXC's compiled-in lxc-user-nic on Debian 12 (LXC_USERNIC_PATH), liblxc-common's file, setuid root. */
const LXC_USER_NIC = "/usr/libexec/lxc/lxc-user-nic";
const MAIN = "tap-launcher";
const QEMU_PACKAGE = "tap-launcher-qemu-helper";
const LXC_PACKAGE = "tap-launcher-lxc-user-nic";
/** Where the diverted files go: root's alone (0700, made by the preinst), so no one else runs them. */
const DIVERT_DIR = "/usr/lib/tap-launcher/diverted";

const DESCRIPTION = `bridged networking for unprivileged QEMU, libvirt and containers
 tap-bridge-helper is a drop-in for QEMU's qemu-bridge-helper: it makes a TAP
 device with a virtio-net header, attaches it to a bridge that
 /etc/qemu/bridge.conf allows, and hands it to the unprivileged caller. Only a
 small C exec shim is privileged (cap_net_admin, or setuid root where file
 capabilities are not available); it keeps CAP_NET_ADMIN alone and runs the
 helper as the caller. A policy file adds per-user quotas counted by the
 kernel, port isolation and queue limits; each TAP is logged to syslog.
 .
 tap-user-nic is a drop-in for LXC's lxc-user-nic: the same command line and
 output, a veth pair on the bridge for an unprivileged container, under the
 same kernel-kept counts, isolation and audit as the TAPs.
 .
 tap-launcher runs any program with such a TAP as fd 3, relays frames in
 QEMU's stream and dgram formats, opens TAPs made beforehand, and checks a
 machine's setup (tap-launcher doctor).
 .
 No bridge is allowed until an administrator adds an allow line to
 /etc/qemu/bridge.conf.`;

const QEMU_DESCRIPTION = `tap-launcher's bridge helper at QEMU's default helper path
 This package diverts QEMU's /usr/lib/qemu/qemu-bridge-helper aside and puts
 tap-launcher's bridge helper there, so that "qemu -netdev bridge" with no
 helper= option, libvirt's session mode with no bridge_helper setting, and with
 them virt-manager and GNOME Boxes user sessions use it. Removing this package
 puts QEMU's own helper back.`;

const LXC_DESCRIPTION = `tap-launcher's tap-user-nic at LXC's lxc-user-nic path
 This package diverts LXC's setuid /usr/libexec/lxc/lxc-user-nic aside and puts
 tap-user-nic there, so that unprivileged LXC containers (lxc.net.N.type =
 veth) get their veth from it, with per-user counts kept by the kernel, port
 isolation and an audit line, under /etc/lxc/lxc-usernet as before. Removing
 this package puts LXC's own program back, setuid root as it was.`;

/**
 * A package that puts one of our shims at another package's compiled-in path, as a relative link,
 * diverting that package's file aside (`dpkg-divert --rename`) into DIVERT_DIR, a folder only root
 * can enter: LXC's file is setuid root, and anyone could run it at the usual PATH.distrib.
 */
interface Diversion {
  pkg: string;
  /** The other program's path, and the privileged program whose shim goes there. */
  path: string;
  program: (typeof PRIVILEGED_PROGRAMS)[number]["name"];
  enhances: string;
  description: string;
}

const DIVERSIONS: Diversion[] = [
  { pkg: QEMU_PACKAGE, path: QEMU_HELPER, program: "tap-bridge-helper", enhances: "qemu-system-common", description: QEMU_DESCRIPTION },
  { pkg: LXC_PACKAGE, path: LXC_USER_NIC, program: "tap-user-nic", enhances: "lxc, rootlesskit", description: LXC_DESCRIPTION },
];

/** Runs a command, returning its stdout; exits with its message when it fails. */
function run(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): string {
  const result = Bun.spawnSync({
    cmd,
    cwd: options.cwd ?? root,
    env: options.env ?? (process.env as Record<string, string>),
    stderr: "pipe",
  });
  if (result.exitCode !== 0) {
    console.error(`package: ${cmd.join(" ")} failed (exit status ${result.exitCode}):\n${result.stderr.toString().trim()}`);
    process.exit(1);
  }
  return result.stdout.toString();
}

/** Writes `content` at `path` below `tree`, making its folders (0755). */
function put(tree: string, path: string, content: string | Uint8Array, mode = 0o644): void {
  const target = join(tree, path);
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  writeFileSync(target, content);
  chmodSync(target, mode);
}

/** gzip -9n: no name or time stored, as Debian compresses manuals and changelogs. */
function gzipped(path: string): Uint8Array {
  return new Uint8Array(Bun.spawnSync({ cmd: ["gzip", "-9nc", path] }).stdout);
}

/** Every path below `tree`, relative, sorted; folders included. */
function walk(tree: string, under = ""): string[] {
  const found: string[] = [];
  for (const name of readdirSync(join(tree, under)).sort()) {
    const path = join(under, name);
    found.push(path);
    if (lstatSync(join(tree, path)).isDirectory()) found.push(...walk(tree, path));
  }
  return found;
}

/**
 * Installed-Size as dpkg-gencontrol counts it: each file's size in KiB rounded up, one per folder or
 * link; a file with several names (the one Bun program) once.
 */
function installedSize(tree: string): number {
  const seen = new Set<number>();
  return walk(tree)
    .filter((path) => path.split("/")[0] !== "DEBIAN")
    .reduce((sum, path) => {
      const stat = lstatSync(join(tree, path));
      if (!stat.isFile()) return sum + 1;
      if (seen.has(stat.ino)) return sum;
      seen.add(stat.ino);
      return sum + Math.ceil(stat.size / 1024);
    }, 0);
}

/** DEBIAN/md5sums: every regular file's digest, as dh_md5sums writes it. */
function md5sums(tree: string): string {
  return walk(tree)
    .filter((path) => path.split("/")[0] !== "DEBIAN" && lstatSync(join(tree, path)).isFile())
    .map((path) => `${new Bun.CryptoHasher("md5").update(readFileSync(join(tree, path))).digest("hex")}  ${path}\n`)
    .join("");
}

/** The copyright and the changelog a package's /usr/share/doc/PACKAGE must have. */
function putDocs(tree: string, pkg: string): void {
  put(tree, `usr/share/doc/${pkg}/copyright`, readFileSync(join(files, "copyright")));
  put(tree, `usr/share/doc/${pkg}/changelog.gz`, gzipped(join(files, "changelog")));
}

/** A maintainer script from scripts/package/, with @NAME@ replaced. */
function script(name: string, values: Record<string, string>): string {
  return readFileSync(join(files, name), "utf8").replace(/@([A-Z_]+)@/g, (whole, key: string) => values[key] ?? whole);
}

/** Writes DEBIAN/ (control with Installed-Size, md5sums, the scripts) and builds the .deb. */
function buildDeb(tree: string, control: Record<string, string>, scripts: Record<string, string>, conffiles: string[]): string {
  const fields = { ...control, "Installed-Size": String(installedSize(tree)) };
  const order = ["Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Depends", "Recommends", "Suggests", "Enhances"];
  const rest = ["Section", "Priority", "Description"];
  const text = [...order, ...rest]
    .filter((key) => fields[key as keyof typeof fields] !== undefined)
    .map((key) => `${key}: ${fields[key as keyof typeof fields]}\n`)
    .join("");
  put(tree, "DEBIAN/control", text);
  put(tree, "DEBIAN/md5sums", md5sums(tree));
  if (conffiles.length > 0) put(tree, "DEBIAN/conffiles", conffiles.map((path) => `${path}\n`).join(""));
  for (const [name, content] of Object.entries(scripts)) put(tree, `DEBIAN/${name}`, content, 0o755);
  const deb = join(outDir, `${control.Package}_${control.Version}_${control.Architecture}.deb`);
  run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", tree, deb], {
    env: { ...process.env, SOURCE_DATE_EPOCH: sourceDate } as Record<string, string>,
  });
  return deb;
}

const changelogField = (field: string) => run(["dpkg-parsechangelog", "-l", join(files, "changelog"), "-S", field]).trim();
const version = changelogField("Version");
if (version !== VERSION) {
  console.error(`package: scripts/package/changelog is at ${version} but package.json at ${VERSION}: add a changelog entry`);
  process.exit(1);
}
const maintainer = changelogField("Maintainer");
const arch = run(["dpkg", "--print-architecture"]).trim();
// dpkg-deb clamps every file's time to this: the same tree gives the same .deb.
const sourceDate = changelogField("Timestamp");

process.umask(0o022);
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "tl-package-"));
chmodSync(work, 0o755);
try {
  const built = join(work, "build");
  const buildEnv = { ...process.env, TAP_PREFIX: PREFIX, TAP_OUT_DIR: built, TAP_ACL_FILE: ACL_FILE, TAP_POLICY_FILE: POLICY_FILE };
  run([process.execPath, "run", "build"], { env: buildEnv as Record<string, string> });

  // tap-launcher: the programs, the shims (privileged by postinst), manuals, docs, the ACL as a conffile.
  const tree = join(work, MAIN);
  run([join(built, "tap-launcher"), "install", "--quiet", `--destdir=${tree}`, `--prefix=${PREFIX}`, `--from=${built}`]);
  // The one Bun program is staged under two names (a hard link); Debian's policy (10.7.3) wants no hard
  // link across folders, so in the package the helper's name is a relative link to the launcher.
  const launcherPath = join(tree, PREFIX.slice(1), "bin", "tap-launcher");
  for (const { name } of PRIVILEGED_PROGRAMS) {
    const helper = join(tree, privilegedFiles(PREFIX, name).helper.slice(1));
    if (statSync(helper).ino !== statSync(launcherPath).ino) continue;
    rmSync(helper);
    symlinkSync(relative(dirname(helper), launcherPath), helper);
  }
  const manRoot = join(tree, "usr", "share", "man");
  for (const section of readdirSync(manRoot)) {
    for (const page of readdirSync(join(manRoot, section))) {
      const path = join(manRoot, section, page);
      writeFileSync(`${path}.gz`, gzipped(path));
      chmodSync(`${path}.gz`, 0o644);
      rmSync(path);
    }
  }
  put(tree, ACL_FILE.slice(1), readFileSync(join(files, "bridge.conf")));
  putDocs(tree, MAIN);
  put(tree, `usr/share/doc/${MAIN}/examples/bridge-policy.conf`, readFileSync(join(files, "bridge-policy.conf")));
  put(tree, `usr/share/lintian/overrides/${MAIN}`, readFileSync(join(files, `${MAIN}.lintian-overrides`)));
  const executables = walk(tree)
    .map((path) => join(tree, path))
    .filter((path) => lstatSync(path).isFile() && (statSync(path).mode & 0o111) !== 0 && !path.includes("/DEBIAN/"));
  const depends = run(["dpkg-shlibdeps", "-O", ...executables], { cwd: shlibdepsFolder(work) });
  const shims = PRIVILEGED_PROGRAMS.map(({ name }) => privilegedFiles(PREFIX, name).shim);
  const mainDeb = buildDeb(
    tree,
    {
      Package: MAIN,
      Version: version,
      Architecture: arch,
      Maintainer: maintainer,
      Depends: depends.trim().replace(/^shlibs:Depends=/, ""),
      Recommends: "libcap2-bin, iproute2",
      Suggests: `qemu-system-x86 | qemu-system, ${QEMU_PACKAGE}, ${LXC_PACKAGE}`,
      Section: "net",
      Priority: "optional",
      Description: DESCRIPTION,
    },
    {
      preinst: script("preinst", { SHIMS: shims.join(" "), WHEN: "upgrade" }),
      prerm: script("preinst", { SHIMS: shims.join(" "), WHEN: "remove | upgrade" }),
      postinst: script("postinst", { SHIMS: shims.join(" ") }),
      postrm: script("postinst", { SHIMS: shims.join(" ") }),
    },
    [ACL_FILE],
  );

  // tap-launcher-qemu-helper and tap-launcher-lxc-user-nic: the other program's path leads to our shim
  // (a relative link: the privilege stays on the one shim the postinst grants); theirs is diverted aside.
  const divertDebs = DIVERSIONS.map((diversion) => buildDiversionDeb(work, diversion, version, maintainer));
  for (const deb of [mainDeb, ...divertDebs]) console.log(`built ${deb}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Builds the package of `diversion` in WORK/PACKAGE. */
function buildDiversionDeb(work: string, diversion: Diversion, version: string, maintainer: string): string {
  const tree = join(work, diversion.pkg);
  const ours = privilegedFiles(PREFIX, diversion.program).shim;
  mkdirSync(join(tree, dirname(diversion.path).slice(1)), { recursive: true, mode: 0o755 });
  symlinkSync(relative(dirname(diversion.path), ours), join(tree, diversion.path.slice(1)));
  putDocs(tree, diversion.pkg);
  const paths = {
    PACKAGE: diversion.pkg,
    DIVERTED: join(DIVERT_DIR, basename(diversion.path)),
    DIVERTED_PATH: diversion.path,
    DIVERT_DIR,
    DIVERT_PARENT: dirname(DIVERT_DIR),
    // Where earlier builds diverted it, beside the original (anyone could run it there): moved by the postinst.
    PREVIOUS_DIVERTED: `${diversion.path}.distrib`,
  };
  return buildDeb(
    tree,
    {
      Package: diversion.pkg,
      Version: version,
      Architecture: "all",
      Maintainer: maintainer,
      Depends: `${MAIN} (= ${version})`,
      Enhances: diversion.enhances,
      Section: "net",
      Priority: "optional",
      Description: diversion.description,
    },
    { preinst: script("divert.preinst", paths), postinst: script("divert.postinst", paths), postrm: script("divert.postrm", paths) },
    [],
  );
}

/** A folder with the debian/control dpkg-shlibdeps insists on reading. */
function shlibdepsFolder(parent: string): string {
  const folder = join(parent, "shlibdeps");
  put(folder, "debian/control", `Source: ${MAIN}\n\nPackage: ${MAIN}\nArchitecture: any\n`);
  return folder;
}
