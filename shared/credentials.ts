// The credentials of every thread of this process, as /proc/self/task/*/status reports them.
import { readdirSync, readFileSync } from "node:fs";

/** <linux/capability.h> */
export const CAP_NET_ADMIN = 12;
export const CAP_NET_ADMIN_MASK = 1n << BigInt(CAP_NET_ADMIN);

export interface ThreadCredentials {
  tid: number;
  /** Real, effective, saved and filesystem user ids. */
  uids: number[];
  gids: number[];
  groups: number[];
  permitted: bigint;
  effective: bigint;
  ambient: bigint;
  bounding: bigint;
  noNewPrivs: boolean;
}

function field(status: string, name: string): string {
  const match = new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status);
  return match?.[1]?.trim() ?? "";
}

function numbers(text: string): number[] {
  return text.split(/\s+/).filter(Boolean).map(Number);
}

/** One entry per thread. Threads that end while being read are left out. */
export function readThreadCredentials(): ThreadCredentials[] {
  const threads: ThreadCredentials[] = [];
  for (const tid of readdirSync("/proc/self/task")) {
    let status: string;
    try {
      status = readFileSync(`/proc/self/task/${tid}/status`, "latin1");
    } catch {
      continue;
    }
    threads.push({
      tid: Number(tid),
      uids: numbers(field(status, "Uid")),
      gids: numbers(field(status, "Gid")),
      groups: numbers(field(status, "Groups")),
      permitted: BigInt(`0x${field(status, "CapPrm") || "0"}`),
      effective: BigInt(`0x${field(status, "CapEff") || "0"}`),
      ambient: BigInt(`0x${field(status, "CapAmb") || "0"}`),
      bounding: BigInt(`0x${field(status, "CapBnd") || "0"}`),
      noNewPrivs: field(status, "NoNewPrivs") === "1",
    });
  }
  return threads;
}

/** `uid 1000 gid 1000 groups [27] CapEff 0x1000` for messages. */
export function describeCredentials(thread: ThreadCredentials): string {
  return `uid ${thread.uids.join("/")} gid ${thread.gids.join("/")} groups [${thread.groups.join(",")}] ` +
    `CapPrm 0x${thread.permitted.toString(16)} CapEff 0x${thread.effective.toString(16)} ` +
    `CapAmb 0x${thread.ambient.toString(16)} NoNewPrivs ${thread.noNewPrivs ? 1 : 0}`;
}
