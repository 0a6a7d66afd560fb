// tap-user-nic and Debian's lxc-user-nic decide alike on every case of the table: same grant or deny, same stdout line.
//
// Both run setuid root as test users, with /etc/lxc/lxc-usernet (and the users) shown through a
// private overlay of /etc and /run a folder of the case's own (lxc-user-nic's database is
// /run/lxc/nics), each case in a new network namespace holding br0 and br1. "grant" means the
// program printed `NICNAME:IFINDEX:HOSTVETH:IFINDEX` and exited 0; "deny" that it printed nothing
// and exited 1; anything else fails the case.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { withNetns } from "../support/netns.ts";
import type { RunResult } from "../support/proc.ts";
import { ALICE, BOB, type TestUser } from "../support/users.ts";
import {
  CAROL,
  oddPath,
  type TestContainer,
  type UserNicWorld,
  userNicPrograms,
  vethNames,
  withUserNicWorld,
} from "../support/user-nic.ts";
import { type Decision, type Step, USERNET_CASES, type UsernetCase, type Who } from "./usernet-table.ts";

// Real namespaces, users and programs on two shared cores: far above Bun's default of 5 s.
setDefaultTimeout(120_000);

const { ours, original } = await userNicPrograms();
const USERS: Record<Who, TestUser> = { alice: ALICE, bob: BOB, carol: CAROL };
const LINE = /^([^:\s]+):([0-9]+):([^:\s]+):([0-9]+)\n$/;

/** A call's decision, checked for lxc-user-nic's output contract; `nic` is what the container side must be called. */
/** A decision, and for a refusal the program's first line (what the comparison shows when decisions differ). */
type Outcome = { decision: Decision; veth: string | null; said?: string };

function classify(result: RunResult, nic: string | null | "delete", program: string): Outcome {
  if (nic === "delete" && result.exitCode === 0 && result.stdout === "") return { decision: "grant", veth: null };
  if (result.signal !== null || result.exitCode > 128) {
    if (result.stdout !== "") throw new Error(`${program}: killed by a signal after printing ${JSON.stringify(result.stdout)}`);
    return { decision: "crash", veth: null };
  }
  const line = nic === "delete" ? null : LINE.exec(result.stdout);
  if (result.exitCode === 0 && line !== null) {
    const [, peer = ""] = line;
    if (nic === null ? !/^eth[0-9]+$/.test(peer) : peer !== nic)
      throw new Error(`${program}: container side ${peer}, expected ${nic ?? "eth%d"}`);
    return { decision: "grant", veth: line[3] ?? null };
  }
  if (result.exitCode === 1 && result.stdout === "") return { decision: "deny", veth: null, said: result.stderr.split("\n")[0] ?? "" };
  throw new Error(`${program}: exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout)}, stderr ${result.stderr}`);
}

/** Plays the case's steps with `program`; returns one decision per create or delete. */
async function play(program: string, usernetCase: UsernetCase): Promise<Outcome[]> {
  return withNetns(async (ns) => {
    await ns.addBridge("br0");
    await ns.addBridge("br1");
    return withUserNicWorld(ns, async (world) => {
      world.setUsernet(usernetCase.usernet);
      const containers = new Map<Who, TestContainer>();
      const containerOf = async (who: Who): Promise<TestContainer> => {
        const known = containers.get(who) ?? (await world.container(USERS[who]));
        containers.set(who, known);
        return known;
      };
      const made: (string | null)[] = [];
      const decisions: Outcome[] = [];
      for (const [index, step] of usernetCase.steps.entries()) {
        if ("exit" in step) {
          await (await containerOf(step.exit)).kill();
          containers.delete(step.exit);
          for (let tries = 0; tries < 100 && (await vethNames(ns)).some((veth) => made.includes(veth)); tries += 1) await Bun.sleep(20);
          continue;
        }
        const outcome = await call(program, world, step, index, made, containerOf);
        made.push(outcome.veth);
        decisions.push(outcome);
      }
      return decisions;
    });
  });
}

async function call(
  program: string,
  world: UserNicWorld,
  step: Exclude<Step, { exit: Who }>,
  index: number,
  made: readonly (string | null)[],
  containerOf: (who: Who) => Promise<TestContainer>,
): Promise<Outcome> {
  if ("create" in step) {
    const into = step.into ?? step.create;
    let pid: number;
    if (into === "own-shell") pid = world.hostProcess(USERS[step.create]).pid;
    else if (into === "gone") {
      const gone = await world.container(USERS[step.create]);
      await gone.kill();
      pid = gone.pid;
    } else pid = (await containerOf(into)).pid;
    if (into === "own-shell") await Bun.sleep(100);
    const nic = step.nic === undefined ? `eth${index}` : step.nic;
    const args = ["create", "/tmp", "c1", String(pid), step.type ?? "veth", step.bridge ?? "br0", ...(nic === null ? [] : [nic])];
    return classify(await world.call(program, USERS[step.create], args), nic, program);
  }
  const namespace = step.namespace ?? step.delete;
  const path = namespace === "fifo" || namespace === "file" ? await oddPath(namespace) : (await containerOf(namespace)).namespacePath;
  const veth = made[step.veth] ?? "none0";
  const args = ["delete", "/tmp", "c1", path, step.type ?? "veth", step.bridge ?? "br0", veth];
  return classify(await world.call(program, USERS[step.delete], args), "delete", program);
}

describe("lxc-usernet decisions match lxc-user-nic's", () => {
  for (const usernetCase of USERNET_CASES) {
    test(usernetCase.name, async () => {
      // Compared as decisions; when they differ, what each refusal said is in the failure.
      const decided = (outcomes: Outcome[], expected: Decision[]) =>
        outcomes.map(({ decision, said }, step) => (decision === expected[step] || said === undefined ? decision : `${decision}: ${said}`));
      const expectedOurs = usernetCase.expected;
      expect({ ours: decided(await play(ours, usernetCase), expectedOurs) }).toEqual({ ours: expectedOurs });
      const expectedOriginal = usernetCase.original ?? usernetCase.expected;
      expect({ original: decided(await play(original, usernetCase), expectedOriginal) }).toEqual({ original: expectedOriginal });
    });
  }
});
