// `bun run package` from a clean clone: what the three .deb files hold, and lintian finds no error in them.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run, runOk } from "../support/proc.ts";
import { tempFolder } from "../support/build.ts";
import { type BuiltDebs, builtDebs } from "./built-debs.ts";

let debs: BuiltDebs;
beforeAll(async () => {
  debs = await builtDebs();
}, 600_000);

/** `dpkg-deb -c`: each entry as "MODE OWNER PATH[ -> TARGET]", by path (dpkg-deb lists links last). */
async function contents(deb: string): Promise<string[]> {
  const listing = await runOk(["dpkg-deb", "-c", deb]);
  return listing
    .trimEnd()
    .split("\n")
    .map((line) => {
      const [mode, owner, , , , ...rest] = line.split(/\s+/);
      return `${mode} ${owner} ${rest.join(" ").replace(/^\.\//, "/")}`;
    })
    .sort((a, b) => ((a.split(" ")[2] ?? "") < (b.split(" ")[2] ?? "") ? -1 : 1));
}

describe("tap-launcher_VERSION_ARCH.deb", () => {
  test("lintian: no error, no warning; what remains is overridden, each with its reason", async () => {
    // One run (a minute each): with --show-overrides lintian counts overridden tags for its exit
    // status, so the tags are read from its output.
    const lintian = await run(["lintian", "--show-overrides", "--tag-display-limit", "0", debs.main, debs.qemuHelper, debs.lxcUserNic]);
    console.log(`lintian on ${debs.commit}:\n${lintian.stdout}${lintian.stderr}`);
    const tags = lintian.stdout.split("\n").filter((line) => /^[A-Z]: /.test(line) && !line.startsWith("N: "));
    expect(tags.filter((line) => /^[EW]: /.test(line))).toEqual([]);
    expect(tags.filter((line) => line.startsWith("O: ")).sort()).toEqual([
      "O: tap-launcher: embedded-library libjpeg [usr/bin/tap-launcher]",
      "O: tap-launcher: hardening-no-pie [usr/bin/tap-launcher]",
      "O: tap-launcher: hardening-no-relro [usr/bin/tap-launcher]",
      "O: tap-launcher: no-manual-page [usr/libexec/tap-bridge-helper.bun]",
      "O: tap-launcher: no-manual-page [usr/libexec/tap-user-nic.bun]",
      "O: tap-launcher: unstripped-binary-or-object [usr/bin/tap-launcher]",
    ]);
  }, 300_000);

  test("its files: one Bun program (each privileged program's name a link to it), two shims with no privilege yet, manuals, docs and examples, the ACL conffile", async () => {
    const files = await contents(debs.main);
    expect(files.filter((line) => !line.startsWith("d"))).toEqual([
      "-rw-r--r-- root/root /etc/qemu/bridge.conf",
      "-rwxr-xr-x root/root /usr/bin/tap-launcher",
      "-rwxr-xr-x root/root /usr/libexec/tap-bridge-helper",
      "lrwxrwxrwx root/root /usr/libexec/tap-bridge-helper.bun -> ../bin/tap-launcher",
      "-rwxr-xr-x root/root /usr/libexec/tap-user-nic",
      "lrwxrwxrwx root/root /usr/libexec/tap-user-nic.bun -> ../bin/tap-launcher",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher/changelog.gz",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher/copyright",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher/examples/bridge-policy.conf",
      "-rw-r--r-- root/root /usr/share/lintian/overrides/tap-launcher",
      "-rw-r--r-- root/root /usr/share/man/man1/tap-launcher.1.gz",
      "-rw-r--r-- root/root /usr/share/man/man5/bridge.conf.5.gz",
      "-rw-r--r-- root/root /usr/share/man/man8/tap-bridge-helper.8.gz",
      "-rw-r--r-- root/root /usr/share/man/man8/tap-user-nic.8.gz",
    ]);
  });

  test("control: real run-time dependencies, the conffile, a postinst that grants", async () => {
    const field = async (name: string) => (await runOk(["dpkg-deb", "-f", debs.main, name])).trim();
    expect(await field("Depends")).toMatch(/^libc6 \(>= 2\.\d+\)$/);
    expect(await field("Recommends")).toBe("libcap2-bin, iproute2");
    // Bun's runtime once: about one Bun executable (~106 MiB), where two made 212 MiB.
    expect(Number(await field("Installed-Size"))).toBeLessThan(130 * 1000);
    const control = tempFolder("tl-control-");
    await runOk(["dpkg-deb", "-e", debs.main, control]);
    expect(readFileSync(join(control, "conffiles"), "utf8")).toBe("/etc/qemu/bridge.conf\n");
    const postinst = readFileSync(join(control, "postinst"), "utf8");
    expect(postinst).toContain("for shim in /usr/libexec/tap-bridge-helper /usr/libexec/tap-user-nic; do");
    expect(postinst).not.toContain(".bun");
  });

  test("/etc/qemu/bridge.conf allows nothing: every line is a comment", async () => {
    const unpacked = tempFolder("tl-unpacked-");
    await runOk(["dpkg-deb", "-x", debs.main, unpacked]);
    const acl = readFileSync(join(unpacked, "etc/qemu/bridge.conf"), "utf8");
    expect(acl).toContain("#allow virbr0");
    expect(acl.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#"))).toEqual([]);
    // Each shim in the package executes its packaged program.
    for (const name of ["tap-bridge-helper", "tap-user-nic"]) {
      expect(readFileSync(join(unpacked, "usr/libexec", name)).includes(Buffer.from(`/usr/libexec/${name}.bun\0`))).toBe(true);
    }
  });
});

describe("tap-launcher-qemu-helper_VERSION_all.deb", () => {
  test("one relative link at QEMU's helper path, to our shim; the diversion in its maintainer scripts", async () => {
    const files = await contents(debs.qemuHelper);
    expect(files.filter((line) => !line.startsWith("d"))).toEqual([
      "lrwxrwxrwx root/root /usr/lib/qemu/qemu-bridge-helper -> ../../libexec/tap-bridge-helper",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher-qemu-helper/changelog.gz",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher-qemu-helper/copyright",
    ]);
    expect((await runOk(["dpkg-deb", "-f", debs.qemuHelper, "Depends"])).trim()).toMatch(/^tap-launcher \(= [0-9.]+\)$/);
  });
});

describe("tap-launcher-lxc-user-nic_VERSION_all.deb", () => {
  test("one relative link at LXC's lxc-user-nic path, to our shim; the diversion of liblxc-common's file in its maintainer scripts", async () => {
    const files = await contents(debs.lxcUserNic);
    expect(files.filter((line) => !line.startsWith("d"))).toEqual([
      "lrwxrwxrwx root/root /usr/libexec/lxc/lxc-user-nic -> ../tap-user-nic",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher-lxc-user-nic/changelog.gz",
      "-rw-r--r-- root/root /usr/share/doc/tap-launcher-lxc-user-nic/copyright",
    ]);
    expect((await runOk(["dpkg-deb", "-f", debs.lxcUserNic, "Depends"])).trim()).toMatch(/^tap-launcher \(= [0-9.]+\)$/);
    const control = tempFolder("tl-lxc-control-");
    await runOk(["dpkg-deb", "-e", debs.lxcUserNic, control]);
    // The commands, with the shell's line continuations joined.
    const command = (name: string) => readFileSync(join(control, name), "utf8").replace(/\\\n\s*/g, "");
    const divert = "dpkg-divert --package tap-launcher-lxc-user-nic --rename --divert";
    expect(command("preinst")).toContain(`${divert} /usr/lib/tap-launcher/diverted/lxc-user-nic --add /usr/libexec/lxc/lxc-user-nic\n`);
    expect(command("preinst")).toContain("mkdir -p -m 0700 /usr/lib/tap-launcher/diverted\n");
    expect(command("postrm")).toContain(`${divert} "$divert_to" --remove /usr/libexec/lxc/lxc-user-nic\n`);
    expect(command("postrm")).toContain("divert_to=/usr/lib/tap-launcher/diverted/lxc-user-nic\n");
  });
});
