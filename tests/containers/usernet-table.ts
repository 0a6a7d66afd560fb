// The cases on which tap-user-nic and Debian's lxc-user-nic are compared: an lxc-usernet file, the calls made, the decision each call must get.
//
// `expected` is what both must decide; where ours differs on purpose, `original` holds what
// lxc-user-nic decides and `difference` says why (docs/containers.md lists them).

export type Who = "alice" | "bob" | "carol";
/** `crash`: killed by a signal with nothing printed (lxc-user-nic only). */
export type Decision = "grant" | "deny" | "crash";

export type Step =
  /** `create` by `by` for the container of `into` (default: the caller's own), its process beside the bridge (`own-shell`), or one gone. */
  | { create: Who; into?: Who | "own-shell" | "gone"; type?: string; bridge?: string; nic?: string | null }
  /** `delete` by `by` of the host veth step `veth` made, naming the namespace of `namespace`'s container (default: the caller's). */
  | { delete: Who; veth: number; namespace?: Who | "fifo" | "file"; type?: string; bridge?: string }
  /** The container of `exit` ends without a delete. */
  | { exit: Who };

export interface UsernetCase {
  name: string;
  /** /etc/lxc/lxc-usernet, or null for no file. */
  usernet: string | null;
  steps: Step[];
  /** One decision per create or delete step, in order. */
  expected: Decision[];
  original?: Decision[];
  difference?: string;
}

const create = (who: Who, extra: Omit<Extract<Step, { create: Who }>, "create"> = {}): Step => ({ create: who, ...extra });

export const USERNET_CASES: UsernetCase[] = [
  { name: "a user line, one create", usernet: "alice veth br0 1\n", steps: [create("alice")], expected: ["grant"] },
  {
    name: "a user line of 1, a second create",
    usernet: "alice veth br0 1\n",
    steps: [create("alice"), create("alice")],
    expected: ["grant", "deny"],
  },
  { name: "a count of 0", usernet: "alice veth br0 0\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "a count of N = 3, four creates",
    usernet: "alice veth br0 3\n",
    steps: [create("alice"), create("alice"), create("alice"), create("alice")],
    expected: ["grant", "grant", "grant", "deny"],
  },
  { name: "no lxc-usernet file", usernet: null, steps: [create("alice")], expected: ["deny"] },
  { name: "an empty file", usernet: "", steps: [create("alice")], expected: ["deny"] },
  { name: "only another user's line", usernet: "bob veth br0 1\n", steps: [create("alice")], expected: ["deny"] },
  { name: "a @group line, for a member", usernet: "@lab veth br0 1\n", steps: [create("alice")], expected: ["grant"] },
  { name: "a @group line, for a non-member", usernet: "@lab veth br0 1\n", steps: [create("bob")], expected: ["deny"] },
  {
    name: "a user line and a @group line add up, in file order",
    usernet: "alice veth br0 1\n@lab veth br0 1\n",
    steps: [create("alice"), create("alice"), create("alice")],
    expected: ["grant", "grant", "deny"],
  },
  {
    name: "the same user line twice does not add up",
    usernet: "alice veth br0 1\nalice veth br0 1\n",
    steps: [create("alice"), create("alice")],
    expected: ["grant", "deny"],
  },
  {
    name: "a user line of 0 before a @group line of 2",
    usernet: "alice veth br0 0\n@lab veth br0 2\n",
    steps: [create("alice"), create("alice"), create("alice")],
    expected: ["grant", "grant", "deny"],
    original: ["grant", "grant", "grant"],
    difference:
      "lxc-user-nic charges the first matching line without looking at its count while its database is empty, so a line of 0 still takes the first device; ours charges a line only below its COUNT",
  },
  {
    name: "a @group line's count is shared by its members",
    usernet: "@lab veth br0 1\n",
    steps: [create("alice"), create("carol")],
    expected: ["grant", "deny"],
  },
  {
    name: "each user line counts for its own user",
    usernet: "alice veth br0 1\nbob veth br0 1\n",
    steps: [create("alice"), create("bob"), create("bob")],
    expected: ["grant", "grant", "deny"],
  },
  { name: "a line for another type", usernet: "alice macvlan br0 1\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "a request for another type than the line's",
    usernet: "alice veth br0 1\n",
    steps: [create("alice", { type: "macvlan" })],
    expected: ["deny"],
  },
  { name: "a line for another bridge", usernet: "alice veth br1 1\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "two bridges, each with its own count",
    usernet: "alice veth br0 1\nalice veth br1 1\n",
    steps: [create("alice"), create("alice", { bridge: "br1" })],
    expected: ["grant", "grant"],
    original: ["grant", "deny"],
    difference:
      "lxc-user-nic 5.0 counts every device recorded under the line's subject, whatever its bridge, against each line; lxc-usernet(5) says the COUNT is per bridge, as ours counts",
  },
  {
    name: "`none` as the bridge",
    usernet: "alice veth none 1\n",
    steps: [create("alice", { bridge: "none" }), create("alice", { bridge: "none" })],
    expected: ["grant", "deny"],
  },
  { name: "a `none` line does not allow a bridge", usernet: "alice veth none 1\n", steps: [create("alice")], expected: ["deny"] },
  { name: "a line commented out with #", usernet: "# alice veth br0 1\n", steps: [create("alice")], expected: ["deny"] },
  { name: "a line that starts with a blank is skipped", usernet: " alice veth br0 1\n", steps: [create("alice")], expected: ["deny"] },
  { name: "tabs between the fields", usernet: "alice\tveth\tbr0\t1\n", steps: [create("alice")], expected: ["grant"] },
  { name: "runs of blanks between the fields", usernet: "alice   veth \t br0    1\n", steps: [create("alice")], expected: ["grant"] },
  { name: "a line without its count", usernet: "alice veth br0\n", steps: [create("alice")], expected: ["deny"] },
  { name: "a count that is no number", usernet: "alice veth br0 x\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "a count with trailing letters (2x reads as 2)",
    usernet: "alice veth br0 2x\n",
    steps: [create("alice"), create("alice"), create("alice")],
    expected: ["grant", "grant", "deny"],
  },
  { name: "a negative count", usernet: "alice veth br0 -1\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "a negative line cancels a positive one (the sum must be above 0)",
    usernet: "alice veth br0 2\n@lab veth br0 -2\n",
    steps: [create("alice")],
    expected: ["deny"],
  },
  { name: "words after the count", usernet: "alice veth br0 1 trailing words\n", steps: [create("alice")], expected: ["grant"] },
  { name: "a CRLF line end", usernet: "alice veth br0 1\r\n", steps: [create("alice")], expected: ["grant"] },
  { name: "no newline at the end of the file", usernet: "alice veth br0 1", steps: [create("alice")], expected: ["grant"] },
  { name: "names compare exactly (Alice is not alice)", usernet: "Alice veth br0 1\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "a @group line for a group the caller is not in (their primary group counts only when also supplementary)",
    usernet: "@alice veth br0 1\n",
    steps: [create("alice")],
    expected: ["deny"],
    original: ["crash"],
    difference:
      "lxc-user-nic 5.0 walks the caller's group list past its end when a @group line names a group the caller (with supplementary groups) is not in, and dies of SIGSEGV; ours denies",
  },
  { name: "no wildcard subject", usernet: "* veth br0 1\n", steps: [create("alice")], expected: ["deny"] },
  {
    name: "garbage lines around a good one",
    usernet: "garbage\n\n\x01\x02 x\nalice veth br0 1\n",
    steps: [create("alice")],
    expected: ["grant"],
  },
  {
    name: "the PID of another user's container",
    usernet: "alice veth br0 5\nbob veth br0 5\n",
    steps: [create("alice", { into: "bob" })],
    expected: ["deny"],
  },
  { name: "a PID that no longer exists", usernet: "alice veth br0 5\n", steps: [create("alice", { into: "gone" })], expected: ["deny"] },
  {
    name: "quota reached, then a container exits without a delete",
    usernet: "alice veth br0 1\n",
    steps: [create("alice"), create("alice"), { exit: "alice" }, create("alice")],
    expected: ["grant", "deny", "grant"],
  },
  {
    name: "delete of another user's veth",
    usernet: "alice veth br0 5\nbob veth br0 5\n",
    steps: [create("bob"), { delete: "alice", veth: 0 }],
    expected: ["grant", "deny"],
  },
  {
    name: "delete naming another user's namespace",
    usernet: "alice veth br0 5\nbob veth br0 5\n",
    steps: [create("alice"), { delete: "alice", veth: 0, namespace: "bob" }],
    expected: ["grant", "deny"],
  },
  {
    name: "delete with a regular file as the namespace",
    usernet: "alice veth br0 5\n",
    steps: [create("alice"), { delete: "alice", veth: 0, namespace: "file" }],
    expected: ["grant", "deny"],
  },
  {
    name: "the caller's own process beside the bridge (the initial namespace)",
    usernet: "alice veth br0 5\n",
    steps: [create("alice", { into: "own-shell" })],
    expected: ["deny"],
  },
  {
    name: "delete of the caller's own veth on a Linux bridge",
    usernet: "alice veth br0 5\n",
    steps: [create("alice"), { delete: "alice", veth: 0 }],
    expected: ["grant", "grant"],
    original: ["grant", "deny"],
    difference:
      "lxc-user-nic 5.0 deletes Open vSwitch ports only and refuses any other bridge; ours deletes a veth of the caller's on a Linux bridge, authorised by the kernel-kept mark",
  },
  {
    name: "a type lxc-usernet grants but that is no veth",
    usernet: "alice macvlan br0 1\n",
    steps: [create("alice", { type: "macvlan" })],
    expected: ["deny"],
    original: ["grant"],
    difference:
      "lxc-user-nic makes a veth whatever the type says and records it under that type; ours makes veths only and refuses other types",
  },
  {
    name: "a nicname the container has already, then one it has not",
    usernet: "alice veth br0 2\n",
    steps: [create("alice", { nic: "eth0" }), create("alice", { nic: "eth0" }), create("alice", { nic: "eth1" })],
    expected: ["grant", "deny", "grant"],
    original: ["grant", "deny", "deny"],
    difference:
      "lxc-user-nic moves the peer first and renames it after; when the rename fails it tries to delete the peer by a name that is no longer on the host, so the pair stays and is counted; ours creates the peer under its final name in one step and leaves nothing when that fails",
  },
];
