// A command line checked strictly against a citty ArgsDef, before citty's own lenient parser sees it.
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "../shared/errors.ts";

/** What a strictly checked command line holds. */
export interface CheckedArgv {
  /** The options in one spelling citty reads the same way: `--name` for a switch, `--name=VALUE` otherwise. */
  options: string[];
  /** The words after the first `--`, untouched; null when there was no `--`. */
  guest: string[] | null;
  /** `--help` or `-h` was given. */
  help: boolean;
  /** `--version` was given. */
  version: boolean;
}

/** An option of the definition, with the spellings that name it. */
interface KnownOption {
  name: string;
  def: ArgDef;
}

/** The help switch every command takes, as citty offers it. */
export const HELP_OPTION = { type: "boolean", alias: "h", description: "Show this help" } satisfies ArgDef;

/** The version switch every command takes, wherever --help is taken. */
export const VERSION_OPTION = { type: "boolean", description: "Print the version and exit" } satisfies ArgDef;

function aliasesOf(def: ArgDef): string[] {
  if (!("alias" in def) || def.alias === undefined) return [];
  return Array.isArray(def.alias) ? def.alias : [def.alias];
}

/** `-x` and `--name` spellings of each option, mapped to it. */
function spellings(argsDef: ArgsDef): Map<string, KnownOption> {
  const known = new Map<string, KnownOption>();
  const all: ArgsDef = { help: HELP_OPTION, version: VERSION_OPTION, ...argsDef };
  for (const [name, def] of Object.entries(all)) {
    if (def.type === "positional") continue;
    const option = { name, def };
    known.set(`--${name}`, option);
    for (const alias of aliasesOf(def)) known.set(alias.length === 1 ? `-${alias}` : `--${alias}`, option);
  }
  return known;
}

/**
 * Checks `argv` exactly, as parseHelperArgv does for the helper: only the options `argsDef` defines
 * (and --help and --version), each at most once (an alias and its long name count as one), a switch only as
 * `--name` or its `-x`, a value as `--name=VALUE` or `--name VALUE` (VALUE not empty and not starting
 * with `-`; `--name=-x` says it is meant). With `takesGuest`, the first `--` ends the options and
 * everything after it is returned untouched; otherwise `--` and any other word are refused, except as
 * the command's positional arguments (up to their number, in order, each before any `--`)
 * (`refuseStrayWord` may first throw a UsageError that says better why a word is misplaced).
 * citty alone would ignore unknown options, keep the last of repeated ones, read `--switch=no` as on,
 * and take a `--` as a value. throws UsageError naming the option or word.
 */
export function checkArgv(
  argv: readonly string[],
  argsDef: ArgsDef,
  takesGuest: boolean,
  refuseStrayWord: (word: string) => void = () => {},
): CheckedArgv {
  const known = spellings(argsDef);
  // A command's positional arguments (grant's SHIM), in order: bare words up to their number.
  const positionals = Object.values(argsDef).filter((def) => def.type === "positional");
  let words = 0;
  const options: string[] = [];
  const seen = new Set<string>();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      if (!takesGuest) throw new UsageError(`unexpected argument "--": this command takes no guest command`);
      return finish(known, seen, { options, guest: argv.slice(i + 1), help, version });
    }
    if (!arg.startsWith("-") && words < positionals.length) {
      options.push(arg);
      words += 1;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      refuseStrayWord(arg);
      if (takesGuest)
        throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: the guest command goes after --, as in -- ${arg} …`);
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const spelling = equals < 0 ? arg : arg.slice(0, equals);
    const option = known.get(spelling);
    if (option === undefined) throw new UsageError(`unknown option ${JSON.stringify(spelling)}`);
    const long = `--${option.name}`;
    if (seen.has(option.name)) throw new UsageError(`${long} given more than once`);
    seen.add(option.name);
    if (option.def.type === "boolean") {
      if (equals >= 0)
        throw new UsageError(`${long} is a switch and takes no value (${JSON.stringify(arg)}): give it alone, or leave it out`);
      if (option.name === "help") help = true;
      else if (option.name === "version") version = true;
      else options.push(long);
      continue;
    }
    let value: string;
    if (equals >= 0) {
      value = arg.slice(equals + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("-")) {
        throw new UsageError(`${long} needs a value: ${long}=${valueHint(option.def)}`);
      }
      value = next;
      i += 1;
    }
    if (value === "") throw new UsageError(`${long} needs a value: ${long}=${valueHint(option.def)}`);
    const choices = option.def.type === "enum" ? (option.def.options ?? []) : [];
    if (choices.length > 0 && !choices.includes(value)) {
      throw new UsageError(`${long} must be ${alternatives(choices)}, not ${JSON.stringify(value)}`);
    }
    options.push(`${long}=${value}`);
  }
  const missing = positionals.slice(words).find((def) => def.required === true);
  if (missing !== undefined && !help && !version) throw new UsageError(`missing ${missing.valueHint ?? "argument"}`);
  return finish(known, seen, { options, guest: null, help, version });
}

/** What to write after `--name=` in messages: the hint, else an enum's choices (`stream|dgram`), else VALUE. */
function valueHint(def: ArgDef): string {
  if (def.valueHint !== undefined) return def.valueHint;
  return def.type === "enum" && def.options !== undefined && def.options.length > 0 ? def.options.join("|") : "VALUE";
}

/** `a or b`, `a, b or c`. */
function alternatives(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join("") : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
}

/** `checked`, once every required option was given (--help or --version needs none). throws UsageError. */
function finish(known: Map<string, KnownOption>, seen: Set<string>, checked: CheckedArgv): CheckedArgv {
  if (checked.help || checked.version) return checked;
  for (const { name, def } of known.values()) {
    if (def.required === true && def.default === undefined && !seen.has(name)) {
      throw new UsageError(`missing --${name}=${valueHint(def)}`);
    }
  }
  return checked;
}
