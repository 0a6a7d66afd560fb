// The launcher's --help text, laid out for an 80-column terminal from a citty command definition.
import type { ArgDef, ArgsDef } from "citty";

/** The width --help fits: a terminal's default. */
export const HELP_WIDTH = 80;
/** Where option and command descriptions start; a longer term puts its description on the next line. */
const DESCRIPTION_COLUMN = 26;

/** What one --help screen shows. */
export interface HelpContent {
  program: string;
  version: string;
  /** Lines as written in the command's meta (kept, each wrapped at HELP_WIDTH). */
  description: string;
  usage: string;
  args: ArgsDef;
  /** Command names and descriptions, for the program's own help. */
  commands: { name: string; description: string }[];
  /** How to call the program, for the closing line about each command's --help. */
  calledAs: string;
}

/** `text` broken at blanks into lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A two-column row: `term` at column 2, `text` wrapped from DESCRIPTION_COLUMN on. */
function row(term: string, text: string): string[] {
  const indent = " ".repeat(DESCRIPTION_COLUMN);
  const body = wrap(text, HELP_WIDTH - DESCRIPTION_COLUMN);
  const head = `  ${term}`;
  if (head.length + 2 > DESCRIPTION_COLUMN) return [head, ...body.map((line) => `${indent}${line}`)];
  return body.map((line, i) => (i === 0 ? `${head.padEnd(DESCRIPTION_COLUMN)}${line}` : `${indent}${line}`));
}

function aliasesOf(def: ArgDef): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return Array.isArray(def.alias) ? def.alias : [def.alias];
}

/** How an option is written in --help: `-v, --verbose`, `--br=BRIDGE`. */
function term(name: string, def: ArgDef): string {
  const short = aliasesOf(def)
    .filter((alias) => alias.length === 1)
    .map((alias) => `-${alias}, `)
    .join("");
  if (def.type === "boolean") return `${short}--${name}`;
  const hint = def.valueHint ?? (def.type === "enum" ? (def.options ?? []).join("|") : "VALUE");
  return `${short}--${name}=${hint}`;
}

/** An option's description, with its default when it has one. */
function describe(def: ArgDef): string {
  const text = def.description ?? "";
  return "default" in def && def.default !== undefined && typeof def.default !== "boolean" ? `${text} (default: ${def.default})` : text;
}

/** The whole --help text, no line longer than HELP_WIDTH (but a single word that is), headings in bold on a terminal. */
export function renderHelp(content: HelpContent, forTerminal: boolean): string {
  const heading = (text: string) => (forTerminal ? `\x1b[1m${text}\x1b[0m` : text);
  const lines = [`${content.program} ${content.version}`, ""];
  for (const line of content.description.split("\n")) {
    const indent = /^ */.exec(line)?.[0] ?? "";
    lines.push(...(line.trim() === "" ? [""] : wrap(line, HELP_WIDTH - indent.length).map((part) => `${indent}${part}`)));
  }
  lines.push("", `${heading("USAGE")} ${content.usage}`, "", heading("OPTIONS"), "");
  for (const [name, def] of Object.entries(content.args)) {
    if (def.type !== "positional") lines.push(...row(term(name, def), describe(def)));
  }
  if (content.commands.length > 0) {
    lines.push("", heading("COMMANDS"), "");
    for (const { name, description } of content.commands) lines.push(...row(name, description));
    lines.push("", `Use ${content.calledAs} COMMAND --help for more about a command.`);
  }
  return lines.join("\n");
}
