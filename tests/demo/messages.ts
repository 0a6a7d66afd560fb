// The error messages the programs can print, read from their source, and those the man pages' DIAGNOSTICS list.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
const SOURCE_FOLDERS = ["helper", "launcher", "acl", "policy", "shared", "usernet"];

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
 * CAPITALS, numbers, absolute paths, …, <…>, a quoted "…" that JSON.stringify makes at run time) and
 * splitting where messages are joined (": "). Quotes and backticks are kept and compared exactly:
 * `BR' and 'BR' are different messages. Parts shorter than 6 characters say too little to count.
 */
export function fixedParts(message: string): string[] {
  return (
    message
      .replace(/\$\{(?:[^{}]|\{[^{}]*\})*\}/g, "\u0000")
      .replace(/\\(.)/g, "$1")
      .replace(/"(?:…|[A-Z][A-Z0-9_]*)"/g, "\u0000")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the marker the replaces above put where a value goes
      .split(/\u0000|…|<[^>]*>|\b[A-Z][A-Z0-9_]*\b|\b\d+\b|(?<![\w.])\/[\w./-]*|: /)
      .map((part) => part.trim().replace(/:$/, "").trim())
      .filter((part) => part.length >= 6)
  );
}

/** The longest fixed part: what identifies the message. */
export function signature(message: string): string {
  return fixedParts(message).sort((a, b) => b.length - a.length)[0] ?? "";
}

// Where a user-facing error message is written in the source.
const SITES = [
  /new StepError\(\s*/g,
  /new UsageError\(\s*/g,
  /new ValueError\(\s*/g,
  /new AclLoadError\(\s*/g,
  /new CredentialsUnreadable\(\s*/g,
  /new AclSyntaxError\([^,]+,[^,]+,\s*/g,
  /new PolicyLoadError\(\s*/g,
  /new PolicyRefusal\(\s*/g,
  /const message =\s*(?=`access denied)/g,
  /log\.error\(\s*/g,
  /log\.warn\(\s*/g, // warnings: a run that goes on, or a failure the caller should still hear of
  /writeText\(2,\s*(?=`)/g, // the privileged programs' watchdog writes its last line itself (helper/watchdog.ts)
  /super\(\s*/g,
  /reason: "(?:tap-gone|tap-failed|guest-protocol|guest-failed|wait-failed)",\s*detail:\s*/g,
  /\battempt\(\s*/g,
  /severity: "(?:error|critical)",\s*subject[^,]*,\s*message:\s*/g,
  /return `access denied[^`]*`/g,
  /\bfail\("/g,
  /reject\(new Error\(\s*/g,
  /\breject\(\s*(?=["`])/g,
  /checkInterfaceName\([^,()]+,\s*/g,
  /warnings\.push\(\s*/g,
  /\bthis\.notice\(\s*/g, // what the relay reports as a warning without stopping (launcher/datapath/pcap.ts)
  /\brun\(\s*\[[^\]]*\],\s*/g,
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
        const message = match[0].startsWith("return `")
          ? match[0].slice(8, -1)
          : match[0].endsWith('fail("')
            ? `tap-bridge-helper: failed to ${literal ?? ""}`
            : (match[0].startsWith("attempt") || match[0].startsWith("run(")) && literal !== null
              ? `failed to ${literal}`
              : match[0].startsWith("checkInterfaceName") && literal !== null
                ? `invalid ${literal} …`
                : literal;
        if (message !== null && signature(message).length > 0) found.push({ file, message });
      }
    }
  }
  return found;
}

/**
 * The code spans of a markdown text, as CommonMark reads them: a run of N backticks opens, the next run
 * of exactly N closes, and one space at both ends is stripped. Each with the text before it.
 */
function codeSpans(text: string): { before: string; code: string }[] {
  const spans: { before: string; code: string }[] = [];
  let at = 0;
  let last = 0;
  while (at < text.length) {
    if (text[at] !== "`") {
      at += 1;
      continue;
    }
    let ticks = 0;
    while (text[at + ticks] === "`") ticks += 1;
    const fence = "`".repeat(ticks);
    let close = text.indexOf(fence, at + ticks);
    while (close >= 0 && text[close + ticks] === "`") close = text.indexOf(fence, close + ticks + 1);
    if (close < 0) break;
    let code = text.slice(at + ticks, close);
    if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ")) code = code.slice(1, -1);
    spans.push({ before: text.slice(last, at), code });
    at = close + ticks;
    last = at;
  }
  return spans;
}

/** The man pages whose DIAGNOSTICS sections list the programs' messages. */
const PAGES_WITH_DIAGNOSTICS = ["tap-bridge-helper.8", "tap-launcher.1", "tap-user-nic.8"];

/** The terms of the definition lists in each page's DIAGNOSTICS section: one message (and its variants) each. */
export function diagnosticsTerms(): string[] {
  const terms: string[] = [];
  for (const page of PAGES_WITH_DIAGNOSTICS) {
    const source = readFileSync(join(ROOT, "man", `${page}.md`), "utf8");
    const start = source.indexOf("\n# DIAGNOSTICS\n");
    const end = source.indexOf("\n# ", start + 1);
    const lines = source.slice(start, end < 0 ? undefined : end).split("\n");
    lines.forEach((line, i) => {
      if (line.startsWith("`") && lines[i + 1]?.startsWith(":   ")) terms.push(line);
    });
  }
  return terms;
}

/** The messages of each DIAGNOSTICS entry: code spans, with or without those inside a (note). */
export function tableMessages(withNotes = false): string[] {
  const messages: string[] = [];
  for (const term of diagnosticsTerms()) {
    let depth = 0;
    for (const { before, code } of codeSpans(term)) {
      for (const c of before) depth += c === "(" ? 1 : c === ")" ? -1 : 0;
      if (depth === 0 || withNotes) messages.push(code);
    }
  }
  return messages;
}

/** Every code message's fixed parts, one per line, for finding a table message's parts in them. */
export function codeText(): string {
  return codeMessages()
    .map(({ message }) => fixedParts(message).join("\u0000"))
    .join("\n");
}

/** The DIAGNOSTICS sections' messages and variants, one per line, exactly as written (quotes and backticks kept). */
export function tableText(): string {
  return tableMessages(true).join("\n");
}
