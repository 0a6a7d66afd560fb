// A throw-away root to install our .deb into: / as an overlay whose upper layer is a private tmpfs, entered with chroot.
//
// A holder process, started in the test's network namespace, makes a private mount namespace in which
// a tmpfs holds the overlay's upper and work folders (on another filesystem than /, so overlayfs sees
// no overlap) and the overlay of / is mounted on it, with a fresh /proc, a sysfs of that network
// namespace, a private /dev (a 0666 /dev/net/tun made with mknod), /tmp and /run. Every command enters
// that mount namespace with nsenter and chroots into the overlay: dpkg writes its database, /usr and
// /etc there, in memory; the host's are read, never written. Killing the holder (or disposing of the
// network namespace, which kills it) removes everything.
import { tempFolder } from "../support/build.ts";
import type { TestNetns } from "../support/netns.ts";
import { type RunResult, run } from "../support/proc.ts";

const SETUP = `set -e
base=$1
mount -t tmpfs -o mode=0755 tl-root-upper "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay tl-root -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
r=$base/root
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount -t tmpfs -o mode=0755,size=1m tl-root-dev "$r/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read name major minor <<EOF
$node
EOF
  mknod -m 0666 "$r/dev/$name" c "$major" "$minor"
done
mkdir "$r/dev/net" "$r/dev/pts" "$r/dev/shm"
mknod -m 0666 "$r/dev/net/tun" c 10 200
ln -s /proc/self/fd "$r/dev/fd"
mount -t tmpfs -o mode=1777 tl-root-shm "$r/dev/shm"
mount -t tmpfs -o mode=1777 tl-root-tmp "$r/tmp"
mount -t tmpfs -o mode=0755 tl-root-run "$r/run"
echo ready
exec sleep 100000`;

/** The clean environment every command in the root starts with. */
const ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"];

export class IsolatedRoot {
  private constructor(
    private readonly holder: ReturnType<typeof Bun.spawn>,
    /** The overlay's mount point in the holder's mount namespace. */
    private readonly mountpoint: string,
  ) {}

  /** Starts the holder in `ns` and waits until the root is mounted. */
  static async create(ns: TestNetns): Promise<IsolatedRoot> {
    const base = tempFolder("tl-root-");
    const holder = Bun.spawn({
      cmd: [...ns.prefix(), "unshare", "-m", "--propagation", "private", "sh", "-c", SETUP, "sh", base],
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = holder.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    if (new TextDecoder().decode(value ?? new Uint8Array()).trim() !== "ready") {
      holder.kill("SIGKILL");
      throw new Error(`the isolated root did not come up: ${await new Response(holder.stderr).text()}`);
    }
    return new IsolatedRoot(holder, `${base}/root`);
  }

  /** argv that runs `cmd` in the root (as root unless `prefix` switches user), with a clean environment. */
  argv(cmd: string[], prefix: string[] = []): string[] {
    return ["nsenter", `--target=${this.holder.pid}`, "--mount", "--net", "--", "chroot", this.mountpoint, ...ENV, ...prefix, ...cmd];
  }

  /** Runs `cmd` in the root. */
  run(cmd: string[], prefix: string[] = []): Promise<RunResult> {
    return run(this.argv(cmd, prefix));
  }

  /** Runs a shell script in the root as root; throws with its output when it fails. */
  async sh(script: string): Promise<string> {
    const result = await this.run(["sh", "-ec", script]);
    if (result.exitCode !== 0)
      throw new Error(`in the isolated root: ${script}\nexited ${result.exitCode}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  /** Copies a host file into the root at `path` (mode 0644). */
  async copyIn(hostPath: string, path: string): Promise<void> {
    const copied = await run([
      "nsenter",
      `--target=${this.holder.pid}`,
      "--mount",
      "--",
      "install",
      "-m",
      "0644",
      hostPath,
      `${this.mountpoint}${path}`,
    ]);
    if (copied.exitCode !== 0) throw new Error(`copying ${hostPath} into the isolated root failed: ${copied.stderr}`);
  }

  /** Ends the holder: its mount namespace, the overlay and the tmpfs go with it. */
  async dispose(): Promise<void> {
    this.holder.kill("SIGKILL");
    await this.holder.exited;
  }
}
