// tap-user-nic and Debian's lxc-user-nic run side by side for tests: a setuid copy of each, containers as test users, a private /etc and /run per call.
import { copyFileSync, chmodSync, chownSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { tempFolder } from "./build.ts";
import { installForTest, type TestInstall } from "./install.ts";
import type { TestNetns } from "./netns.ts";
import type { SyslogSink } from "./syslog-sink.ts";
import { privateEtcPrefix } from "./private-etc.ts";
import { run, type RunResult } from "./proc.ts";
import { ALICE, asUser, BOB, LAB_GROUP, sharedFolder, type TestUser } from "./users.ts";
import { privilegedFiles } from "../../launcher/layout.ts";

/** A second member of lab, so that a `@lab` line's shared count can be seen. */
export const CAROL: TestUser = { uid: 4103, gid: 4103, groups: [LAB_GROUP] };

/** Debian's compiled-in path of the original, which LXC runs (LXC_USERNIC_PATH). */
export const LXC_USER_NIC = "/usr/libexec/lxc/lxc-user-nic";

/** passwd and group with alice, bob and carol (alice and carol in lab) over the host's. */
function accounts(): Record<string, string> {
  const passwd = readFileSync("/etc/passwd", "utf8").trimEnd();
  const group = readFileSync("/etc/group", "utf8").trimEnd();
  const user = (name: string, who: TestUser) => `${name}:x:${who.uid}:${who.gid}::/nonexistent:/usr/sbin/nologin`;
  return {
    passwd: [passwd, user("alice", ALICE), user("bob", BOB), user("carol", CAROL), ""].join("\n"),
    group: [group, `alice:x:${ALICE.gid}:`, `bob:x:${BOB.gid}:`, `carol:x:${CAROL.gid}:`, `lab:x:${LAB_GROUP}:alice,carol`, ""].join("\n"),
  };
}

export interface UserNicPrograms {
  installed: TestInstall;
  /** Our shim, installed setuid root by `tap-launcher install`. */
  ours: string;
  /** A setuid-root copy of Debian's lxc-user-nic in a private folder. */
  original: string;
}

let programs: Promise<UserNicPrograms> | null = null;

/** Builds and installs ours once per run, and copies the original beside it. */
export function userNicPrograms(): Promise<UserNicPrograms> {
  programs ??= (async () => {
    const installed = await installForTest("setuid");
    const original = join(sharedFolder("tl-lxc-"), "lxc-user-nic");
    copyFileSync(LXC_USER_NIC, original);
    chownSync(original, 0, 0);
    chmodSync(original, 0o4755);
    return { installed, ours: privilegedFiles(installed.prefix, "tap-user-nic").shim, original };
  })();
  return programs;
}

/** A process of `user` in a new user and network namespace of its own: what LXC and rootlesskit hand over as PID. */
export interface TestContainer {
  pid: number;
  /** Its /proc/PID/ns/net, for delete. */
  namespacePath: string;
  kill(): Promise<void>;
}

/**
 * One test's world inside `ns` (where the bridges are): the lxc-usernet file and other /etc files
 * shown to each call through a private overlay, /run a folder of its own (lxc-user-nic's database
 * lives in /run/lxc), containers as test users.
 */
export class UserNicWorld {
  readonly #runDir = sharedFolder("tl-run-");
  #etc: Record<string, string> = accounts();
  readonly #containers: TestContainer[] = [];
  /** Shell commands run as root in each call's mount namespace before the switch to the user. */
  #mounts: string[] = [];

  constructor(readonly ns: TestNetns) {}

  /** The lxc-usernet file's content, or null for none. */
  setUsernet(content: string | null): void {
    const { "lxc/lxc-usernet": _dropped, ...rest } = this.#etc;
    this.#etc = content === null ? rest : { ...rest, "lxc/lxc-usernet": content };
  }

  /** Adds or replaces a file under the private /etc (`qemu/bridge-policy.conf`). */
  setEtcFile(relative: string, content: string): void {
    this.#etc = { ...this.#etc, [relative]: content };
  }

  /** Adds a mount (a shell command) made privately for each later call, such as a file shown at a fixed path. */
  addMount(command: string): void {
    this.#mounts = [...this.#mounts, command];
  }

  /** argv prefix: the namespace, the private /etc, /run and other mounts, then `user`. */
  prefixAs(user: TestUser): string[] {
    return [
      ...this.ns.prefix(),
      ...privateEtcPrefix(this.#etc),
      "sh",
      "-c",
      ['mount --bind "$1" /run', ...this.#mounts, 'shift && exec "$@"'].join(" && "),
      "sh",
      this.#runDir,
      ...asUser(user),
    ];
  }

  /** Runs `program ARGS` as `user`. */
  call(program: string, user: TestUser, args: string[]): Promise<RunResult> {
    return run([...this.prefixAs(user), program, ...args]);
  }

  /** Starts `command` as `user` in a new user+net namespace (unshare -Urn, which execs: its pid is the command's). */
  async container(user: TestUser, command: string[] = ["sleep", "600"]): Promise<TestContainer> {
    const child = Bun.spawn({
      cmd: [...this.ns.prefix(), ...asUser(user), "unshare", "-Urn", ...command],
      stdout: "ignore",
      stderr: "ignore",
    });
    const namespacePath = `/proc/${child.pid}/ns/net`;
    const hostNamespace = readlinkSync("/proc/self/ns/net");
    // Ready once it runs in a namespace of its own (unshare has made it) under the final program, and
    // waits there (state S): the comm changes early in execve, while the process is still being
    // exec'd, and its namespace could not always be opened then (a full run saw one refusal).
    for (let tries = 0; tries < 500; tries += 1) {
      try {
        const comm = readFileSync(`/proc/${child.pid}/comm`, "utf8").trim();
        const state = readFileSync(`/proc/${child.pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
        const exec = comm === "unshare" || comm === "setpriv" || comm === "ip";
        if (readlinkSync(namespacePath) !== hostNamespace && !exec && state === "S") break;
      } catch {
        // not there yet
      }
      await Bun.sleep(10);
    }
    const container: TestContainer = {
      pid: child.pid,
      namespacePath,
      kill: async () => {
        child.kill("SIGKILL");
        await child.exited;
      },
    };
    this.#containers.push(container);
    return container;
  }

  /** A process of `user` beside the bridge, in no namespace of its own: the caller's "own shell". */
  hostProcess(user: TestUser): TestContainer {
    const child = Bun.spawn({ cmd: [...this.ns.prefix(), ...asUser(user), "sleep", "600"], stdout: "ignore", stderr: "ignore" });
    const process: TestContainer = {
      pid: child.pid,
      namespacePath: `/proc/${child.pid}/ns/net`,
      kill: async () => {
        child.kill("SIGKILL");
        await child.exited;
      },
    };
    this.#containers.push(process);
    return process;
  }

  /** Kills every container started here. */
  async dispose(): Promise<void> {
    for (const container of this.#containers.splice(0)) await container.kill();
  }
}

/** Runs `body` with a world in `ns`, killing its containers afterwards whatever happens. */
export async function withUserNicWorld<T>(ns: TestNetns, body: (world: UserNicWorld) => Promise<T>): Promise<T> {
  const world = new UserNicWorld(ns);
  try {
    return await body(world);
  } finally {
    await world.dispose();
  }
}

/** A private /dev whose /dev/log is `sink`, for each later call in `world`. */
export function logTo(world: UserNicWorld, sink: SyslogSink): void {
  world.addMount(`mount -t tmpfs -o mode=0755,size=64k tl-dev /dev && touch /dev/log && mount --bind ${sink.path} /dev/log`);
}

/** The veths in `ns` (host ends), by name. */
export async function vethNames(ns: TestNetns): Promise<string[]> {
  const parsed = JSON.parse(await ns.ip("-j", "link", "show", "type", "veth")) as { ifname: string }[];
  return parsed.map((link) => link.ifname);
}

/** A temporary file of `kind` others can name (a FIFO, a regular file) for NETNS_PATH cases. */
export async function oddPath(kind: "fifo" | "file"): Promise<string> {
  const path = join(tempFolder("tl-odd-"), kind);
  chmodSync(join(path, ".."), 0o755);
  if (kind === "fifo") await run(["mkfifo", "-m", "0666", path]);
  else await run(["install", "-m", "0644", "/dev/null", path]);
  return path;
}
