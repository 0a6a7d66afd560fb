// The policy's decisions on one request, as data (whether the TAP count and the queue count are allowed), and the one queue-count parser.
import { isDecimal } from "../shared/text.ts";
import type { PolicyRule } from "./rules.ts";

/** The most queues the helper gives one TAP (`--queues=`). */
export const MAX_QUEUES = 16;

/** The number of queues `text` asks for, or null when it is not a whole number from 1 to MAX_QUEUES. */
export function parseQueueCount(text: string): number | null {
  const queues = text.length <= 2 && isDecimal(text) ? Number(text) : 0;
  return queues >= 1 && queues <= MAX_QUEUES ? queues : null;
}

/** The caller's TAPs on one bridge (`held`, not counting one being made) against the line's limit; the helper and doctor phrase it. */
export function quotaVerdict(rule: PolicyRule, held: readonly string[]) {
  return { rule, limit: rule.maxTaps, held, allowed: held.length < rule.maxTaps };
}
export type QuotaVerdict = ReturnType<typeof quotaVerdict>;

/** `--queues=N` against the limit of the line that holds (`rule`, null when none does). */
export function queueVerdict(rule: PolicyRule | null, asked: number) {
  return { rule, limit: queueLimit(rule), asked, allowed: asked <= queueLimit(rule) };
}
export type QueueVerdict = ReturnType<typeof queueVerdict>;

/** The most queues one TAP may have under `rule`: its `queues=`, else 1 (why: docs/design.md, "What the helper cannot undo"). */
export function queueLimit(rule: PolicyRule | null): number {
  return rule?.maxQueues ?? 1;
}

/** How a caller at their limit frees a place; a persistent TAP stays on the bridge, and counted, after its last fd closes. */
export const FREE_A_PLACE = "stop a VM that uses one; a TAP made persistent counts until it is deleted (ip tuntap del dev TAP mode tap)";
