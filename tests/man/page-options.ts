// The options a man page lists, per command, read from its source through pandoc's own document tree,
// and the options a citty ArgsDef (or citty's rendered usage) defines, in the same spellings.
import type { ArgsDef } from "citty";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { runOk } from "../support/proc.ts";
import { ROOT } from "../support/build.ts";

/** A node of pandoc's JSON document tree: a type and its content. */
interface PandocNode {
  t: string;
  c?: unknown;
}

/** The plain text of pandoc inlines (Str, Space, Strong, Emph, Code, …), as a reader sees it. */
function plainText(inlines: readonly PandocNode[]): string {
  return inlines
    .map((node) => {
      if (node.t === "Str") return node.c as string;
      if (node.t === "Space" || node.t === "SoftBreak" || node.t === "LineBreak") return " ";
      if (node.t === "Code") return (node.c as [unknown, string])[1];
      if (node.t === "Quoted") return plainText((node.c as [unknown, PandocNode[]])[1]);
      if (Array.isArray(node.c)) return plainText(node.c as PandocNode[]);
      return "";
    })
    .join("");
}

/** The option spellings in a definition list term: `-v, --verbose` gives -v and --verbose; `--br=BRIDGE` gives --br. */
export function spellingsInTerm(term: string): string[] {
  return [...term.matchAll(/(?:^|[\s,|])(--?[A-Za-z][\w-]*)/g)].map((match) => match[1] ?? "");
}

/**
 * The options each command's section of `page` (man/PAGE.md) lists: the terms of the definition lists
 * directly under the level-1 header OPTIONS (key "") and under each level-2 header in COMMANDS (key:
 * the command's name). Lists elsewhere (FILES, ENVIRONMENT, EXIT STATUS) are not options.
 */
export async function pageOptions(page: string): Promise<Map<string, string[]>> {
  const tree = JSON.parse(await runOk(["pandoc", "--from=markdown-smart", "--to=json", join(ROOT, "man", `${page}.md`)])) as {
    blocks: PandocNode[];
  };
  const options = new Map<string, string[]>();
  let section = "";
  let command: string | null = null;
  for (const block of tree.blocks) {
    if (block.t === "Header") {
      const [level, , inlines] = block.c as [number, unknown, PandocNode[]];
      const title = plainText(inlines).trim();
      if (level === 1) {
        section = title;
        command = section === "OPTIONS" ? "" : null;
      } else if (section === "COMMANDS") {
        command = title;
      }
      continue;
    }
    if (block.t !== "DefinitionList" || command === null) continue;
    const items = block.c as [PandocNode[], unknown][];
    const listed = options.get(command) ?? [];
    for (const [term] of items) listed.push(...spellingsInTerm(plainText(term)));
    options.set(command, listed);
  }
  return options;
}

/**
 * The spellings of a citty ArgsDef's options, `--name` and `-x` for each alias, plus the -h/--help
 * every command takes, and with `everyCommandVersion` the --version the launcher's commands all take.
 */
export function definedOptions(args: ArgsDef, everyCommandVersion = false): string[] {
  const spellings = everyCommandVersion ? ["-h", "--help", "--version"] : ["-h", "--help"];
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional" || name === "help" || (everyCommandVersion && name === "version")) continue;
    spellings.push(`--${name}`);
    const aliases = "alias" in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const alias of aliases) spellings.push(alias.length === 1 ? `-${alias}` : `--${alias}`);
  }
  return spellings;
}

/**
 * The options in citty's rendered usage (renderUsage: an OPTIONS block of `  -x, --name=<HINT>  text`
 * lines), and `--version` when the header shows citty's ` vVERSION)` for a meta.version.
 */
export function usageOptions(usage: string): string[] {
  const text = stripVTControlCharacters(usage);
  const block = text.slice(text.indexOf("\nOPTIONS\n") + 1).split(/\n\n(?=[A-Z])/)[0] ?? "";
  const spellings = block
    .split("\n")
    .slice(1)
    .flatMap((line) => {
      // A term starts before the description column (the launcher's is 26, citty right-aligns them
      // left of it); a description's wrapped lines start at or after it, even when one starts with --.
      const head = /^\s{0,25}((?:-\w, )?--[\w-]+)/.exec(line);
      return head === null ? [] : spellingsInTerm(head[1] ?? "");
    });
  const header = text.split("\n\n")[0] ?? "";
  if (/ v\d[^)\s]*\)$/.test(header) && !spellings.includes("--version")) spellings.push("--version");
  return spellings;
}

/** Sorted, without repeats: for comparing two lists of spellings. */
export function normalised(spellings: readonly string[]): string[] {
  return [...new Set(spellings)].sort();
}
