// A tiny Linux guest for QEMU tests: Debian's kernel and a busybox-static initramfs with virtio-net.
//
// The guest configures eth0 from the kernel command line (tl.ip, tl.target), pings the target
// (tl.count times, default 3), prints TL-PING-OK or TL-PING-FAIL on the serial console and powers
// off. With QEMU's isa-debug-exit device present, a failed ping makes QEMU exit with status 3.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { runOk } from "./proc.ts";

/** The load order the virtio-net driver needs (each depends on the ones before). */
const MODULES = [
  "virtio_ring",
  "virtio",
  "virtio_pci_modern_dev",
  "virtio_pci_legacy_dev",
  "virtio_pci",
  "failover",
  "net_failover",
  "virtio_net",
];

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for module in ${MODULES.join(" ")}; do
  [ -f /lib/$module.ko ] && insmod /lib/$module.ko
done
for word in $(cat /proc/cmdline); do
  case $word in
    tl.ip=*) ip=\${word#tl.ip=} ;;
    tl.target=*) target=\${word#tl.target=} ;;
    tl.count=*) count=\${word#tl.count=} ;;
  esac
done
ip link set lo up
ip link set eth0 up
echo "TL-QUEUES $(ls /sys/class/net/eth0/queues | tr '\\n' ' ')"
ip addr add $ip/24 dev eth0
if ping -c \${count:-3} -W 3 $target; then
  echo TL-PING-OK
  poweroff -f
fi
echo TL-PING-FAIL
printf '\\001' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
`;

export interface Guest {
  kernel: string;
  initrd: string;
  /** The temporary folder holding the initramfs: remove it when done. */
  folder: string;
}

let built: Promise<Guest> | undefined;

/** Builds the guest once per process, in a temporary folder that `folder` names (the caller removes it). */
export function buildGuest(): Promise<Guest> {
  built ??= makeGuest();
  return built;
}

async function makeGuest(): Promise<Guest> {
  const version = readdirSync("/boot")
    .filter((name) => name.startsWith("vmlinuz-"))
    .sort()
    .at(-1)
    ?.slice("vmlinuz-".length);
  if (version === undefined) throw new Error("no kernel in /boot: install linux-image-amd64");
  const busybox = ["/usr/bin/busybox", "/bin/busybox"].find((path) => existsSync(path));
  if (busybox === undefined) throw new Error("no busybox: install busybox-static");

  // Readable by all: unprivileged users run QEMU on it in the tests and the demo.
  const folder = mkdtempSync(join(tmpdir(), "tl-guest-"));
  chmodSync(folder, 0o755);
  const root = join(folder, "root");
  for (const dir of ["bin", "lib", "proc", "sys", "dev"]) mkdirSync(join(root, dir), { recursive: true });
  copyFileSync(busybox, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  writeFileSync(join(root, "init"), INIT, { mode: 0o755 });
  for (const module of MODULES) {
    const path = (await runOk(["modinfo", "-k", version, "-n", module])).trim();
    if (path === "(builtin)" || path === "") continue;
    const target = join(root, "lib", `${module}.ko`);
    if (path.endsWith(".xz")) writeFileSync(target, await runOk(["xz", "-dc", path]));
    else if (path.endsWith(".zst")) await runOk(["zstd", "-q", "-d", path, "-o", target]);
    else copyFileSync(path, target);
  }
  const initrd = join(folder, "initrd.cpio.gz");
  await runOk(["sh", "-c", `cd "${root}" && find . | cpio -o -H newc --quiet | gzip -1 > "${initrd}"`]);
  chmodSync(initrd, 0o644);
  return { kernel: `/boot/vmlinuz-${version}`, initrd, folder };
}

/**
 * The QEMU command line that boots `guest` with one virtio-net NIC on `netdev` (id n0); `nic` adds
 * properties to the NIC (`mq=on,vectors=6`), `cpus` sets -smp.
 */
export function qemuCommand(
  guest: Guest,
  netdev: string,
  ip: string,
  target: string,
  count = 3,
  options: { nic?: string; cpus?: number } = {},
): string[] {
  return [
    "qemu-system-x86_64",
    "-nodefaults",
    "-no-user-config",
    "-accel",
    "tcg",
    "-m",
    "256",
    "-smp",
    String(options.cpus ?? 1),
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x01",
    "-kernel",
    guest.kernel,
    "-initrd",
    guest.initrd,
    "-append",
    `console=ttyS0 panic=-1 quiet tl.ip=${ip} tl.target=${target} tl.count=${count}`,
    "-netdev",
    netdev,
    "-device",
    `virtio-net-pci,netdev=n0,romfile=${options.nic ? `,${options.nic}` : ""}`,
  ];
}
