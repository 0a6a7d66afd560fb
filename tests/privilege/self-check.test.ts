// The helper's own check of its credentials: it runs only as the exec shim leaves it, and what it cannot read denies.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola/core";
import { privilegeProblem, verifiedCredentials } from "../../helper/privilege.ts";
import { CredentialsUnreadable, parseThreadStatus, readThreadCredentials, type ThreadCredentials } from "../../shared/credentials.ts";
import { buildWithAcl, tempFolder } from "../support/build.ts";
import { runHelper } from "../support/helper-run.ts";
import { withNetns } from "../support/netns.ts";
import { runOk } from "../support/proc.ts";
import { ALICE, asUser, withOpenTunDevice } from "../support/users.ts";

/** A status file as the shim leaves the helper: uid 4101, CAP_NET_ADMIN permitted, effective and ambient, no_new_privs. */
const SHIM_STATUS = `Name:\ttap-bridge-helper
Uid:\t4101\t4101\t4101\t4101
Gid:\t4101\t4101\t4101\t4101
Groups:\t4201
CapInh:\t0000000000001000
CapPrm:\t0000000000001000
CapEff:\t0000000000001000
CapBnd:\t0000000000001000
CapAmb:\t0000000000001000
NoNewPrivs:\t1
`;

function thread(edit: (status: string) => string = (status) => status): ThreadCredentials {
  return parseThreadStatus("7", edit(SHIM_STATUS));
}

describe("the shim's signature is required unless the caller is root", () => {
  test("as the shim leaves it: accepted", () => {
    expect(privilegeProblem([thread(), thread()])).toBeNull();
  });
  test("file capabilities on the Bun executable (CAP_NET_ADMIN permitted and effective, not ambient, no no_new_privs): refused", () => {
    const fileCaps = thread((s) =>
      s.replace("CapAmb:\t0000000000001000", "CapAmb:\t0000000000000000").replace("NoNewPrivs:\t1", "NoNewPrivs:\t0"),
    );
    expect(privilegeProblem([fileCaps])).toStartWith("refusing to run without the exec shim's restrictions");
  });
  test("no_new_privs alone, or ambient CAP_NET_ADMIN alone: refused", () => {
    expect(privilegeProblem([thread((s) => s.replace("NoNewPrivs:\t1", "NoNewPrivs:\t0"))])).not.toBeNull();
    expect(privilegeProblem([thread((s) => s.replace("CapAmb:\t0000000000001000", "CapAmb:\t0000000000000000"))])).not.toBeNull();
  });
  test("one thread out of line is enough to refuse", () => {
    expect(privilegeProblem([thread(), thread((s) => s.replace("NoNewPrivs:\t1", "NoNewPrivs:\t0"))])).not.toBeNull();
  });
  test("capabilities beyond CAP_NET_ADMIN, and mixed ids: refused", () => {
    expect(privilegeProblem([thread((s) => s.replace("CapEff:\t0000000000001000", "CapEff:\t0000000000003000"))])).toStartWith(
      "refusing to run with capabilities beyond CAP_NET_ADMIN",
    );
    expect(privilegeProblem([thread((s) => s.replace("Uid:\t4101\t4101", "Uid:\t4101\t0"))])).toStartWith("refusing to run with mixed ids");
  });
  test("root running the helper itself needs no signature", () => {
    const root = thread((s) =>
      s
        .replaceAll("4101", "0")
        .replace("NoNewPrivs:\t1", "NoNewPrivs:\t0")
        .replace("CapAmb:\t0000000000001000", "CapAmb:\t0000000000000000")
        .replace(/CapEff:\t\w+/, "CapEff:\t000001ffffffffff"),
    );
    expect(privilegeProblem([root])).toBeNull();
  });
  test("no threads at all: refused", () => {
    expect(privilegeProblem([])).not.toBeNull();
  });
});

describe("what cannot be read denies (fail closed)", () => {
  for (const field of ["CapPrm", "CapEff", "CapAmb", "CapBnd", "NoNewPrivs", "Uid", "Gid", "Groups"]) {
    test(`a status without ${field} does not parse (it used to read as 0)`, () => {
      const status = SHIM_STATUS.split("\n")
        .filter((line) => !line.startsWith(`${field}:`))
        .join("\n");
      expect(() => parseThreadStatus("7", status)).toThrow(new CredentialsUnreadable(`/proc/self/task/7/status has no ${field} field`));
    });
  }
  test("a malformed capability set or id list does not parse", () => {
    expect(() => thread((s) => s.replace("CapEff:\t0000000000001000", "CapEff:\tzz"))).toThrow(CredentialsUnreadable);
    expect(() => thread((s) => s.replace("Uid:\t4101\t4101\t4101\t4101", "Uid:\t4101"))).toThrow(CredentialsUnreadable);
  });
  test("a task folder with no readable thread throws (it used to pass with no thread checked)", () => {
    expect(() => readThreadCredentials(tempFolder("tl-task-"))).toThrow(CredentialsUnreadable);
    expect(() => readThreadCredentials(join(tempFolder("tl-task-"), "missing"))).toThrow(CredentialsUnreadable);
  });
  test("a thread whose status cannot be read for another reason than having ended throws", () => {
    const folder = tempFolder("tl-task-");
    mkdirSync(join(folder, "7", "status"), { recursive: true }); // EISDIR
    expect(() => readThreadCredentials(folder)).toThrow(new CredentialsUnreadable(`cannot read ${folder}/7/status: EISDIR`));
  });
  test("verifiedCredentials turns an unreadable status, or none, into a refusal it says", () => {
    const said: string[] = [];
    const log = createConsola({ reporters: [{ log: (entry) => said.push(`${entry.type}: ${entry.args.join(" ")}`) }] });
    const unreadable = () => {
      throw new CredentialsUnreadable("no");
    };
    expect(verifiedCredentials(log, unreadable)).toBeNull();
    expect(verifiedCredentials(log, () => [])).toBeNull();
    expect(said).toEqual([
      "error: refusing to run: cannot verify the helper's privileges: no",
      expect.stringMatching(/^info: the helper reads its own credentials in \/proc\/self\/task/),
      "error: refusing to run: no thread's credentials could be read",
      expect.stringMatching(/^info: run the installed exec shim/),
    ]);
  });
});

test("a Bun helper given cap_net_admin+ep and run directly by a user is refused, and makes no TAP", async () => {
  const aclFile = join(tempFolder("tl-acl-"), "bridge.conf");
  writeFileSync(aclFile, "allow br0\n", { mode: 0o644 });
  const dist = await buildWithAcl(aclFile);
  // Only ALICE can reach the privileged copy while it exists (0750, group ALICE).
  const folder = tempFolder("tl-filecaps-");
  chownSync(folder, 0, ALICE.gid);
  chmodSync(folder, 0o750);
  const helper = join(folder, "tap-bridge-helper.bun");
  copyFileSync(join(dist, "tap-bridge-helper"), helper);
  chmodSync(helper, 0o755);
  await runOk(["setcap", "cap_net_admin+ep", helper]);
  await withNetns(async (ns) => {
    await ns.addBridge("br0");
    const outcome = await runHelper([...ns.prefix(), ...withOpenTunDevice(), ...asUser(ALICE), helper, "--use-vnet", "--fd=3", "--br=br0"]);
    expect(outcome.fd).toBeNull();
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toMatch(
      /^tap-bridge-helper: refusing to run without the exec shim's restrictions, no_new_privs and an ambient CAP_NET_ADMIN \(thread \d+: uid 4101\/4101\/4101\/4101 .* CapEff 0x1000 CapAmb 0x0 NoNewPrivs 0\)\n/,
    );
    expect(await ns.tapNames()).toEqual([]);
  });
});
