// The error messages the programs can print, read from their source, and the troubleshooting table's.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
const SOURCE_FOLDERS = ["helper", "launcher", "acl", "shared"];

/** Every .ts/.c source file of the programs (not tests, not scripts). */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|c)$/.test(entry.name)) files.push(path);
    }
  };
  SOURCE_FOLDERS.forEach(walk);
  return files;
}

/** The JS string literal (quotes, backticks with ${} nesting) starting at `at`, as raw source text. */
function literalAt(text: string, at: number): string | null {
  const quote = text[at];
  if (quote !== '"' && quote !== "'" && quote !== "`") return null;
  let depth = 0;
  for (let i = at + 1; i < text.length; i += 1) {
    const c = text[i];
    if (c === "\\") {
      i += 1;
      continue;
    }
    if (quote === "`" && c === "$" && text[i + 1] === "{") {
      depth += 1;
      i += 1;
      continue;
    }
    if (depth > 0) {
      if (c === "}") depth -= 1;
      continue;
    }
    if (c === quote) return text.slice(at + 1, i);
  }
  return null;
}

/**
 * The fixed parts of a message: what is left after taking out what is filled in at run time (`${…}`,
 * CAPITALS, numbers, absolute paths, …, <…>) and splitting where messages are joined (": ") or quoted
 * (JSON.stringify adds quotes at run time). Parts shorter than 6 characters say too little to count.
 */
export function fixedParts(message: string): string[] {
  return message
    .replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, "\u0000")
    .replace(/\\(.)/g, "$1")
    .split(/\u0000|…|<[^>]*>|\b[A-Z][A-Z0-9_]*\b|\b\d+\b|(?<![\w.])\/[\w./-]*|: |[`'"]/)
    .map((part) => part.trim().replace(/:$/, "").trim())
    .filter((part) => part.length >= 6);
}

/** The longest fixed part: what identifies the message. */
export function signature(message: string): string {
  return fixedParts(message).sort((a, b) => b.length - a.length)[0] ?? "";
}

// Where a user-facing error message is written in the source.
const SITES = [
  /new StepError\(\s*/g,
  /new UsageError\(\s*/g,
  /new AclLoadError\(\s*/g,
  /new CredentialsUnreadable\(\s*/g,
  /new AclSyntaxError\([^,]+,[^,]+,\s*/g,
  /log\.error\(\s*/g,
  /super\(\s*/g,
  /reason: "(?:tap-gone|guest-protocol)", detail:\s*/g,
  /\battempt\(\s*/g,
  /severity: "(?:error|critical)", subject[^,]*, message:\s*/g,
  /return `access denied[^`]*`/g,
  /\bfail\("/g,
  /reject\(new Error\(\s*/g,
  /checkInterfaceName\([^,()]+,\s*/g,
  /warnings\.push\(\s*/g,
  /\brun\(\[[^\]]*\],\s*/g,
  /\)\s*\{?\s*return (?=`)/g,
];

/** Each message the programs print as an error, as written in the source, with its file. */
export function codeMessages(): { file: string; message: string }[] {
  const found: { file: string; message: string }[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const site of SITES) {
      for (const match of text.matchAll(site)) {
        const start = (match.index ?? 0) + match[0].length;
        const literal = match[0].endsWith('fail("') ? literalAt(text, start - 1) : literalAt(text, start);
        const message = match[0].startsWith("return `") ? match[0].slice(8, -1)
          : match[0].endsWith('fail("') ? `tap-bridge-helper: failed to ${literal ?? ""}`
          : (match[0].startsWith("attempt") || match[0].startsWith("run(")) && literal !== null ? `failed to ${literal}`
          : match[0].startsWith("checkInterfaceName") && literal !== null ? `invalid ${literal} …`
          : literal;
        if (message !== null && signature(message).length > 0) found.push({ file, message });
      }
    }
  }
  return found;
}

/** The messages in the first cell of each troubleshooting row: backticked, and not in a (note). */
export function tableMessages(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Troubleshooting"));
  const messages: string[] = [];
  for (const line of section.split("\n").filter((row) => row.startsWith("| `"))) {
    const pieces = (line.split(" | ")[0] ?? "").slice(2).split("`");
    let depth = 0;
    pieces.forEach((piece, i) => {
      if (i % 2 === 1) {
        if (depth === 0) messages.push(piece);
        return;
      }
      for (const c of piece) depth += c === "(" ? 1 : c === ")" ? -1 : 0;
    });
  }
  return messages;
}

/** Every code message's fixed parts, one per line, for finding a table message's parts in them. */
export function codeText(): string {
  return codeMessages().map(({ message }) => fixedParts(message).join("\u0000")).join("\n");
}

/** The troubleshooting section's text, quotes unified. */
export function tableText(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  return readme.slice(readme.indexOf("## Troubleshooting")).replace(/[`'"]/g, "'");
}
