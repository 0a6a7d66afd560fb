// The man pages as `bun run build` makes them: each renders with `man --warnings` at 80 columns without a
// warning, carries its name and section, and names the ACL path the helper of the same build reads.
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAN_PAGES, manPagePath } from "../../launcher/layout.ts";
import { buildManPages } from "../../scripts/man.ts";
import { tempFolder } from "../support/build.ts";
import { run, runOk } from "../support/proc.ts";

/** `MANWIDTH=80 man --warnings -l FILE`, exactly as an operator would check a page. */
function renderPage(file: string) {
  return run(["man", "--warnings", "-l", file], { env: { ...process.env, MANWIDTH: "80" } as Record<string, string> });
}

let folder: string;
beforeAll(() => {
  folder = tempFolder("tl-man-");
  buildManPages(folder, { aclFile: "/opt/tl/acl.conf", policyFile: "/opt/tl/policy.conf" });
});

describe("each page renders with man --warnings at 80 columns", () => {
  for (const page of MAN_PAGES) {
    test(page, async () => {
      const rendered = await renderPage(join(folder, "man", manPagePath(page)));
      expect(rendered.stderr).toBe("");
      expect(rendered.exitCode).toBe(0);
      const [name = "", section = ""] = [page.slice(0, page.lastIndexOf(".")), page.slice(page.lastIndexOf(".") + 1)];
      const lines = rendered.stdout.split("\n");
      expect(lines[0]).toStartWith(`${name.toUpperCase()}(${section})`);
      expect(lines).toContain("NAME");
      expect(lines).toContain("SEE ALSO");
      expect(lines.every((line) => line.length <= 80)).toBe(true);
      expect(lines.at(-2)).toContain("tap-launcher ");
    });
  }
});

describe("mandoc -T lint reports nothing on each page (Debian's lintian runs it too)", () => {
  for (const page of MAN_PAGES) {
    test(page, async () => {
      const file = join(folder, "man", manPagePath(page));
      const lint = await run(["mandoc", "-T", "lint", "-W", "all", file]);
      expect(lint.stdout + lint.stderr).toBe("");
      expect(lint.exitCode).toBe(0);
      expect(readFileSync(file, "utf8")).toMatch(/^\.TH "[^"]+" "\d" "\d{4}-\d{2}-\d{2}" /m);
    });
  }

  test("the control: pandoc's own output, before the build cleans it, is not lint-clean", async () => {
    const source = join(tempFolder("tl-man-raw-"), "raw.1.md");
    writeFileSync(source, "---\ntitle: RAW\nsection: 1\n---\n\n# NAME\n\nraw - a page\n\n# EXAMPLES\n\n```\nraw --x\n```\n");
    const roff = source.replace(/\.md$/, "");
    await runOk(["pandoc", "--standalone", "--from=markdown-smart", "--to=man", `--output=${roff}`, source]);
    const lint = await run(["mandoc", "-T", "lint", "-W", "all", roff]);
    expect(lint.stdout + lint.stderr).toContain("invalid escape sequence: \\f[C]");
    expect(lint.stdout + lint.stderr).toContain("missing date");
  });
});

test("bridge.conf(5) names the ACL path the build compiled into the helper", async () => {
  const rendered = await renderPage(join(folder, "man", manPagePath("bridge.conf.5")));
  expect(rendered.stdout.replace(/\s+/g, " ")).toContain("this page was built for /opt/tl/acl.conf.");
});

test("the check catches a page that does not fit: a table wider than 80 columns warns (the control)", async () => {
  const source = join(tempFolder("tl-man-wide-"), "wide.1.md");
  writeFileSync(
    source,
    `---\ntitle: WIDE\nsection: 1\n---\n\n# NAME\n\nwide - a table\n\n# TABLE\n\n| a | b |\n|---|---|\n| ${"word ".repeat(30)}| x |\n`,
  );
  const roff = source.replace(/\.md$/, "");
  await runOk(["pandoc", "--standalone", "--from=markdown-smart", "--to=man", `--output=${roff}`, source]);
  const rendered = await renderPage(roff);
  expect(rendered.stderr).toContain("table wider than line width");
});
