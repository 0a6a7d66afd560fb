// Throw-away network namespaces for tests: created per test, removed with everything in them.
import { placeName } from "../../policy/holders.ts";
import { run, runOk } from "./proc.ts";

let counter = 0;
/** Every namespace not yet disposed: removed after the run even when a test was abandoned (timeout). */
const live = new Set<TestNetns>();

/** Disposes of every namespace still present (tests/support/preload.ts calls it after all tests). */
export async function disposeAllNetns(): Promise<void> {
  for (const ns of [...live]) await ns.dispose();
}

/** A namespace made by `ip netns add`; `dispose()` kills what runs in it and deletes it. */
export class TestNetns {
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates a namespace with loopback up and IPv6 off, so no stray autoconfiguration frames appear. */
  static async create(): Promise<TestNetns> {
    const name = `tl-${process.pid}-${++counter}`;
    await runOk(["ip", "netns", "add", name]);
    const ns = new TestNetns(name);
    live.add(ns);
    try {
      await ns.ip("link", "set", "lo", "up");
      await ns.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    } catch (err) {
      await ns.dispose();
      throw err;
    }
    return ns;
  }

  /** `ip -n NAME ARGS…`, failing the test on a non-zero exit. */
  async ip(...args: string[]): Promise<string> {
    return runOk(["ip", "-n", this.name, ...args]);
  }

  /** A command inside the namespace, failing the test on a non-zero exit. */
  async exec(...cmd: string[]): Promise<string> {
    return runOk(["ip", "netns", "exec", this.name, ...cmd]);
  }

  /** The argv prefix that runs a command inside the namespace. */
  prefix(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /** Adds an up bridge with an optional MTU. */
  async addBridge(name: string, mtu?: number): Promise<void> {
    await this.ip("link", "add", name, "type", "bridge");
    if (mtu !== undefined) await this.ip("link", "set", name, "mtu", String(mtu));
    await this.ip("link", "set", name, "up");
  }

  /** `ip -j link show` of one device, parsed. */
  async link(device: string): Promise<LinkInfo> {
    const parsed = JSON.parse(await this.ip("-j", "-d", "link", "show", "dev", device)) as LinkInfo[];
    const info = parsed[0];
    if (info === undefined) throw new Error(`no link ${device} in ${this.name}`);
    return info;
  }

  /**
   * Gives `device` the place `place` of `uid` on `bridge`, as an administrator counts a TAP by hand
   * (policy/holders.ts); returns the place's name.
   */
  async givePlace(device: string, uid: number, bridge: string, place: number): Promise<string> {
    const bridgeIndex = Number((await this.exec("cat", `/sys/class/net/${bridge}/ifindex`)).trim());
    const name = placeName(uid, bridgeIndex, place);
    await this.ip("link", "property", "add", "dev", device, "altname", name);
    return name;
  }

  /** Names of the TUN/TAP devices in the namespace. */
  async tapNames(): Promise<string[]> {
    const parsed = JSON.parse(await this.ip("-j", "link", "show", "type", "tun")) as { ifname: string }[];
    return parsed.map((link) => link.ifname);
  }

  /** Kills every process left in the namespace and deletes it. Safe to call twice. */
  async dispose(): Promise<void> {
    live.delete(this);
    const pids = (await run(["ip", "netns", "pids", this.name])).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    await run(["ip", "netns", "del", this.name]);
  }
}

export interface LinkInfo {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  master?: string;
  operstate: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
  /** Alternative names (`ip link property add ... altname`). */
  altnames?: string[];
}

/** Runs `body` with a fresh namespace, removing it afterwards whatever happens. */
export async function withNetns<T>(body: (ns: TestNetns) => Promise<T>): Promise<T> {
  const ns = await TestNetns.create();
  try {
    return await body(ns);
  } finally {
    await ns.dispose();
  }
}
