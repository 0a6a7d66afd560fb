// The ACL module on its own: error messages name file and line, skipped includes are reported.
import { describe, expect, test } from "bun:test";
import { mkfifoSync } from "../support/fifo.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decideBridgeAccess, explainDenial } from "../../acl/decide.ts";
import { AclLoadError, loadAcl, MAX_ACL_FILES, MAX_ACL_TOTAL_BYTES } from "../../acl/load.ts";
import { MAX_CONFIG_FILE_BYTES } from "../../shared/config-file.ts";
import { AclSyntaxError, parseAclText } from "../../acl/parse.ts";
import { tempFolder } from "../support/build.ts";

const text = (s: string) => new TextEncoder().encode(s);

describe("parseAclText", () => {
  test("rules carry file and physical line", () => {
    expect(parseAclText(text("# c\n\nallow br0\ndeny all\ninclude /x/y.conf\n"), "f.conf")).toEqual([
      { kind: "rule", action: "allow", bridge: "br0", file: "f.conf", line: 3 },
      { kind: "rule", action: "deny", bridge: null, file: "f.conf", line: 4 },
      { kind: "include", path: "/x/y.conf", file: "f.conf", line: 5 },
    ]);
  });

  for (const [content, line, message] of [
    ["allow br0\nallow\n", 2, /f\.conf:2: invalid line "allow": a command needs an argument/],
    ["\n\npermit br0\n", 3, /f\.conf:3: unknown command "permit"/],
    ["allow br0123456789abcdef\n", 1, /f\.conf:1: name "br0123456789abcdef" too long: 18 bytes, at most 15/],
    ["deny \u0001\u0002\n#\nfoo\n", 3, /f\.conf:3: invalid line "foo"/],
  ] as const) {
    test(`error at line ${line}: ${message.source.slice(0, 40)}`, () => {
      let caught: unknown;
      try {
        parseAclText(text(content), "f.conf");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AclSyntaxError);
      expect((caught as AclSyntaxError).message).toMatch(message);
    });
  }

  test("control characters in a bad line are escaped in the message", () => {
    expect(() => parseAclText(text("\u001b[31mred\n"), "f.conf")).toThrow(/"\\u001b\[31mred"/);
  });
});

describe("loadAcl", () => {
  const dir = tempFolder("tl-aclunit-");
  const write = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  test("a missing include is skipped and reported with file and line", () => {
    const main = write("m1.conf", `allow br0\ninclude ${dir}/absent.conf\n`);
    const acl = loadAcl(main);
    expect(acl.rules.length).toBe(1);
    expect(acl.warnings).toEqual([`${main}:2: skipped include ${dir}/absent.conf: ENOENT`]);
  });

  test("an include loop is followed once and reported", () => {
    const loop = write("loop.conf", `include ${dir}/loop.conf\nallow br1\n`);
    const acl = loadAcl(write("m2.conf", `include ${loop}\n`));
    expect(acl.rules.map((rule) => rule.bridge)).toEqual(["br1"]);
    expect(acl.warnings).toEqual([`${loop}:1: skipped include ${loop}: include loop`]);
    expect(acl.filesRead).toEqual([`${dir}/m2.conf`, loop]);
  });

  test("an included FIFO refuses the whole ACL, without blocking (its deny rules must not be dropped)", () => {
    mkfifoSync(join(dir, "fifo"));
    const main = write("m3.conf", `include ${dir}/fifo\nallow br0\n`);
    expect(() => loadAcl(main)).toThrow(new AclLoadError(`${main}:1: cannot read include ${dir}/fifo: not a regular file`));
  });

  test("an included file over the size limit refuses the whole ACL", () => {
    const big = write("big-include.conf", "#".repeat(MAX_CONFIG_FILE_BYTES + 1));
    const main = write("m5.conf", `allow br0\ninclude ${big}\n`);
    expect(() => loadAcl(main)).toThrow(
      new AclLoadError(`${main}:2: cannot read include ${big}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`),
    );
  });

  test("an included directory is skipped, as the original reads it as empty", () => {
    const acl = loadAcl(write("m6.conf", `include ${dir}\nallow br0\n`));
    expect(acl.warnings).toEqual([`${dir}/m6.conf:1: skipped include ${dir}: a directory`]);
  });

  test("an oversized file is refused", () => {
    const big = write("big.conf", "#".repeat(MAX_CONFIG_FILE_BYTES + 1));
    expect(() => loadAcl(big)).toThrow(new RegExp(`cannot read ACL file ${big}: larger than`));
  });

  test("a syntax error in an include names the included file", () => {
    const bad = write("bad.conf", "allow br0\nnope\n");
    expect(() => loadAcl(write("m4.conf", `include ${bad}\n`))).toThrow(
      new AclLoadError(`ACL syntax error at ${bad}:2: invalid line "nope": a command needs an argument`),
    );
  });
});

describe("loadAcl bounds the whole ACL, not only each file", () => {
  const dir = tempFolder("tl-acl-bounds-");
  // 1 MiB of comment lines: the largest file that is read at all.
  const big = join(dir, "big.conf");
  const commentLine = `#${"x".repeat(62)}\n`;
  writeFileSync(big, commentLine.repeat(MAX_CONFIG_FILE_BYTES / commentLine.length));

  test("the same 1 MiB file included 300 times is refused once the total passes the bound", () => {
    const main = join(dir, "many-big.conf");
    writeFileSync(main, `allow br0\n${`include ${big}\n`.repeat(300)}`);
    const started = performance.now();
    expect(() => loadAcl(main)).toThrow(
      new AclLoadError(`${big}: the ACL and its includes are larger than ${MAX_ACL_TOTAL_BYTES} bytes in all`),
    );
    console.log(`refused after ${(performance.now() - started).toFixed(0)} ms`);
  });

  test("more than MAX_ACL_FILES small includes are refused, naming the line", () => {
    const small = join(dir, "small.conf");
    writeFileSync(small, "allow br1\n");
    const main = join(dir, "many-small.conf");
    writeFileSync(main, `include ${small}\n`.repeat(MAX_ACL_FILES + 1));
    expect(() => loadAcl(main)).toThrow(
      new AclLoadError(`${main}:${MAX_ACL_FILES}: the ACL and its includes are more than ${MAX_ACL_FILES} files`),
    );
  });

  test("a file that includes itself thousands of times is refused: a loop counts as a file opened", () => {
    const loop = join(dir, "loop.conf");
    writeFileSync(loop, `include ${loop}\n`.repeat(100));
    expect(() => loadAcl(loop)).toThrow(
      new AclLoadError(`${loop}:${MAX_ACL_FILES}: the ACL and its includes are more than ${MAX_ACL_FILES} files`),
    );
    // 1 MiB of self-includes: each looped read counts its bytes too.
    const bigLoop = join(dir, "big-loop.conf");
    writeFileSync(bigLoop, `include ${bigLoop}\n`.repeat(Math.floor(MAX_CONFIG_FILE_BYTES / (bigLoop.length + 9))));
    expect(() => loadAcl(bigLoop)).toThrow(
      new AclLoadError(`${bigLoop}: the ACL and its includes are larger than ${MAX_ACL_TOTAL_BYTES} bytes in all`),
    );
  });

  test("missing includes count as files opened too", () => {
    const main = join(dir, "many-missing.conf");
    writeFileSync(main, `include ${dir}/absent.conf\n`.repeat(5000));
    expect(() => loadAcl(main)).toThrow(
      new AclLoadError(`${main}:${MAX_ACL_FILES}: the ACL and its includes are more than ${MAX_ACL_FILES} files`),
    );
  });

  test("up to the bounds an ACL loads: MAX_ACL_FILES files in all", () => {
    const small = join(dir, "small2.conf");
    writeFileSync(small, "allow br1\n");
    const main = join(dir, "just-enough.conf");
    writeFileSync(main, `include ${small}\n`.repeat(MAX_ACL_FILES - 1));
    expect(loadAcl(main).filesRead.length).toBe(MAX_ACL_FILES);
  });
});

describe("decideBridgeAccess", () => {
  const rules = parseAclText(text("allow all\ndeny br1\nallow br1\n"), "/etc/qemu/bridge.conf").filter((entry) => entry.kind === "rule");
  const plain = (name: string) => ({ requested: name, deviceNames: [name] });

  test("deny wins whatever the order, and is named", () => {
    const decision = decideBridgeAccess(rules, plain("br1"));
    expect(decision.allowed).toBe(false);
    expect(explainDenial(decision, plain("br1"), ["/etc/qemu/bridge.conf"])).toBe(
      'access denied by acl file: rule "deny br1" at /etc/qemu/bridge.conf:2 matches bridge br1 (deny wins over allow)',
    );
  });

  test("no match denies and says what to add", () => {
    const decision = decideBridgeAccess([], plain("br0"));
    expect(explainDenial(decision, plain("br0"), ["/a.conf", "/b.conf"])).toBe(
      'access denied by acl file: no allow rule matches bridge br0 in /a.conf, /b.conf; add "allow br0" to one of them',
    );
  });

  test("a deny naming the device's canonical name holds for an alternative name", () => {
    const lab1 = { requested: "lab1", deviceNames: ["br1", "lab1"] };
    const decision = decideBridgeAccess(rules, lab1);
    expect(decision.allowed).toBe(false);
    expect(explainDenial(decision, lab1, ["/etc/qemu/bridge.conf"])).toBe(
      'access denied by acl file: rule "deny br1" at /etc/qemu/bridge.conf:2 matches bridge lab1 (the device br1, also named lab1) (deny wins over allow)',
    );
  });

  test("a deny naming an alternative name holds for the canonical name and the other alternatives", () => {
    const denyLab = parseAclText(text("allow all\ndeny lab2\n"), "/a.conf").filter((entry) => entry.kind === "rule");
    for (const requested of ["br1", "lab1", "lab2"]) {
      expect(decideBridgeAccess(denyLab, { requested, deviceNames: ["br1", "lab1", "lab2"] }).allowed).toBe(false);
    }
    expect(decideBridgeAccess(denyLab, plain("br0")).allowed).toBe(true);
  });

  test("an allow naming any name of the device allows it, and an allow for another device does not", () => {
    const allowBr1 = parseAclText(text("allow br1\n"), "/a.conf").filter((entry) => entry.kind === "rule");
    expect(decideBridgeAccess(allowBr1, { requested: "lab1", deviceNames: ["br1", "lab1"] }).allowed).toBe(true);
    expect(decideBridgeAccess(allowBr1, { requested: "lab1", deviceNames: ["br7", "lab1"] }).allowed).toBe(false);
    const decision = decideBridgeAccess([], { requested: "lab1", deviceNames: ["br7", "lab1"] });
    expect(explainDenial(decision, { requested: "lab1", deviceNames: ["br7", "lab1"] }, ["/a.conf"])).toBe(
      'access denied by acl file: no allow rule matches bridge lab1 (the device br7, also named lab1) in /a.conf; add "allow br7" to one of them',
    );
  });
});
