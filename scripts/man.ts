// The manual pages: man/PAGE.N.md (pandoc Markdown) built to roff with Debian's pandoc, into OUT/man/manN/PAGE.N.
//
// Part of `bun run build` (scripts/build.ts), so a build folder holds everything `tap-launcher install`
// places and install itself needs no pandoc. `@ACL_FILE@` and `@POLICY_FILE@` in a page become the
// paths the helper is built with.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MAN_PAGES, manPagePath } from "../launcher/layout.ts";
import { VERSION } from "../shared/version.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface ManSettings {
  /** The ACL file the helper of the same build reads. */
  aclFile: string;
  /** The policy file the helper of the same build reads. */
  policyFile: string;
}

/**
 * The date a page carries (`.TH`'s third field, which mandoc wants): SOURCE_DATE_EPOCH's day when it is
 * set, as reproducible builds (Debian's among them) set it, else today's. YYYY-MM-DD.
 */
function pageDate(): string {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return new Date(Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : Date.now()).toISOString().slice(0, 10);
}

/**
 * pandoc 2.17's roff as `mandoc -T lint` accepts it: code blocks in the font CR, which groff and
 * mandoc both know (pandoc writes `\f[C]`, which mandoc does not), inline code in bold (pandoc's
 * `\f[V]`, a font its preamble defines with `.ftr`, which mandoc ignores; on a terminal groff shows V
 * as bold too), and no `.PP` right after a heading, where it does nothing (mandoc warns that it
 * skips it).
 */
function lintClean(roff: string): string {
  return roff
    .replaceAll("\\f[C]", "\\f[CR]")
    .replaceAll("\\f[V]", "\\f[B]")
    .replace(/^(\.S[HS] .*)\n\.PP$/gm, "$1");
}

/**
 * Builds every page of MAN_PAGES into `outDir`/man/manN/. pandoc reads Markdown without `smart`, so
 * `--br` stays two hyphens (the man writer emits them as `\-`, which a reader can copy). Returns the
 * files written. throws Error naming the page and pandoc's complaint, or how to install pandoc.
 */
export function buildManPages(outDir: string, settings: ManSettings): string[] {
  const written: string[] = [];
  for (const page of MAN_PAGES) {
    const source = readFileSync(join(ROOT, "man", `${page}.md`), "utf8")
      .replaceAll("@ACL_FILE@", settings.aclFile)
      .replaceAll("@POLICY_FILE@", settings.policyFile);
    const output = join(outDir, "man", manPagePath(page));
    mkdirSync(dirname(output), { recursive: true });
    let result: ReturnType<typeof Bun.spawnSync>;
    try {
      result = Bun.spawnSync({
        cmd: [
          "pandoc",
          "--standalone",
          "--from=markdown-smart",
          "--to=man",
          `--metadata=footer:tap-launcher ${VERSION}`,
          `--metadata=date:${pageDate()}`,
          `--output=${output}`,
        ],
        stdin: new TextEncoder().encode(source),
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch {
      throw new Error("cannot run pandoc, which builds the man pages: apt-get install pandoc (or bash scripts/install-deps.sh)");
    }
    const complaint = result.stderr?.toString().trim() ?? "";
    // pandoc warns (and still exits 0) about markup it had to guess at: a page must build cleanly.
    if (result.exitCode !== 0 || complaint !== "") {
      throw new Error(`pandoc failed on man/${page}.md (exit ${result.exitCode}): ${complaint}`);
    }
    writeFileSync(output, lintClean(readFileSync(output, "utf8")));
    written.push(output);
  }
  return written;
}
