// Names for the test users in a private /etc (passwd and group over the host's), for the policy's user and @group lines.
import { readFileSync } from "node:fs";
import { ALICE, BOB, LAB_GROUP } from "./users.ts";

/** nobody, as Debian has it: the subject of the issue's `nobody br0 2` example. */
export const NOBODY = { uid: 65534, gid: 65534, groups: [] as number[] };

/**
 * /etc/passwd and /etc/group with alice (4101, in group lab 4201) and bob (4102) added to the host's
 * entries, as files for privateEtcPrefix.
 */
export function testAccounts(): Record<string, string> {
  const passwd = readFileSync("/etc/passwd", "utf8").trimEnd();
  const group = readFileSync("/etc/group", "utf8").trimEnd();
  return {
    passwd: `${passwd}\nalice:x:${ALICE.uid}:${ALICE.gid}::/nonexistent:/usr/sbin/nologin\nbob:x:${BOB.uid}:${BOB.gid}::/nonexistent:/usr/sbin/nologin\n`,
    group: `${group}\nalice:x:${ALICE.gid}:\nbob:x:${BOB.gid}:\nlab:x:${LAB_GROUP}:alice\n`,
  };
}
