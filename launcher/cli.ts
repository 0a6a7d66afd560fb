// What every launcher command shares: a strictly checked command line, --help, --verbose/--quiet, the logger, failed steps.
import { runCommand, type ArgsDef, type CommandDef, type Resolvable } from "citty";
import type { ConsolaInstance } from "consola";
import { StepError, systemReason, UsageError, ValueError } from "../shared/errors.ts";
import { checkArgv, HELP_OPTION, VERSION_OPTION } from "./argv.ts";
import { renderHelp } from "./help.ts";
import { outOfFds } from "./out-of-fds.ts";
import { isTerminal } from "../shared/libc.ts";
import { createLogger, reportStepError, writeText } from "../shared/log.ts";

export const verbosityArgs = {
  verbose: { type: "boolean", alias: "v", description: "Say more: each step" },
  quiet: { type: "boolean", alias: "q", description: "Only warnings and errors" },
} satisfies ArgsDef;

export function loggerFor(args: { verbose?: boolean; quiet?: boolean }): ConsolaInstance {
  return createLogger("tap-launcher", args.verbose === true ? "verbose" : args.quiet === true ? "quiet" : "normal");
}

/**
 * Runs a command's `action`. A StepError is printed with its hint and sets its exit status; a ValueError
 * (a value shared/ refused on the way, such as a TAP name) is printed and exits 1; so is running out
 * of fds, wherever it happens (a low `ulimit -n`); anything else is said in one line (reportUnexpected).
 */
export async function reportFailure(log: ConsolaInstance, action: () => unknown): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof StepError) {
      reportStepError(log, err);
      process.exitCode = err.exitStatus;
    } else if (err instanceof ValueError) {
      log.error(err.message);
      process.exitCode = 1;
    } else {
      const exhausted = outOfFds(err);
      if (exhausted === null) {
        reportUnexpected(log, err);
        return;
      }
      log.error(`failed to open a file: no file descriptor is left (${exhausted.code} in ${exhausted.call})`);
      log.info(
        exhausted.code === "EMFILE"
          ? "raise the limit on open files (ulimit -n 1024) and run it again"
          : "the whole system is out of open files: close some programs",
      );
      process.exitCode = 1;
    }
  }
}

/**
 * A failure no step phrased (a system call the runtime makes for us, refused): one line with the
 * system's reason, never a stack trace, and exit status 1.
 */
export function reportUnexpected(log: ConsolaInstance, err: unknown): void {
  log.error(`stopped by an unexpected failure: ${systemReason(err)}`);
  log.info("the reason names the call that failed; run it again, and report the line if it happens again");
  process.exitCode = 1;
}

/** The value behind one of citty's lazily given fields (args, meta, subcommands). */
async function resolved<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? (value as () => T | Promise<T>)() : (value as T | Promise<T>);
}

/** The command argv chose, and how to name it to the user. */
interface ChosenCommand {
  command: CommandDef;
  argsDef: ArgsDef;
  /** `tap-launcher` or `tap-launcher doctor`: how the user calls it. */
  calledAs: string;
  /** The words after the command's name. */
  argv: string[];
  /** Whether it runs a guest given after `--`. */
  takesGuest: boolean;
  /** Whether argv named no command, so --help describes the program as a whole. */
  isDefault: boolean;
  /** The names of all the commands. */
  commandNames: string[];
}

/** The subcommand argv[0] names, or the default one with all of argv. */
async function chooseCommand<T extends ArgsDef>(main: CommandDef<T>, argv: string[], guestCommand: string): Promise<ChosenCommand> {
  const program = (await resolved(main.meta ?? {})).name ?? "tap-launcher";
  const subCommands = await resolved(main.subCommands ?? {});
  const named = argv[0] !== undefined && Object.hasOwn(subCommands, argv[0]) ? argv[0] : undefined;
  const name = named ?? (await resolved(main.default ?? ""));
  const entry = subCommands[name];
  if (entry === undefined) throw new Error(`${program} has no command ${name}`);
  const command = await resolved(entry);
  return {
    command,
    argsDef: await resolved(command.args ?? {}),
    calledAs: named === undefined ? program : `${program} ${named}`,
    argv: named === undefined ? argv : argv.slice(1),
    takesGuest: name === guestCommand,
    isDefault: named === undefined,
    commandNames: Object.keys(subCommands),
  };
}

/** Refuses `tap-launcher -v doctor`, which would otherwise read as a guest command put before `--`. throws UsageError. */
function refuseMisplacedCommand(chosen: ChosenCommand, word: string): void {
  if (chosen.isDefault && chosen.commandNames.includes(word)) {
    throw new UsageError(`the command ${word} comes first: tap-launcher ${word} [OPTIONS]`);
  }
}

/** The usage line: what citty would print, with the guest command where it goes. */
function usageLine(chosen: ChosenCommand): string {
  return `${chosen.calledAs} [OPTIONS]${chosen.takesGuest ? " -- guest-cmd [args...]" : ""}`;
}

/** The help for the chosen command (the whole program's when none was named), colours only for a terminal. */
async function helpText<T extends ArgsDef>(main: CommandDef<T>, chosen: ChosenCommand, forTerminal: boolean): Promise<string> {
  const meta = await resolved(main.meta ?? {});
  const subject = chosen.isDefault ? meta : await resolved(chosen.command.meta ?? {});
  const argsDef = chosen.isDefault ? await resolved(main.args ?? {}) : chosen.argsDef;
  const commands: { name: string; description: string }[] = [];
  if (chosen.isDefault) {
    for (const [name, entry] of Object.entries(await resolved(main.subCommands ?? {}))) {
      commands.push({ name, description: (await resolved((await resolved(entry)).meta ?? {})).description ?? "" });
    }
  }
  return renderHelp(
    {
      program: chosen.calledAs,
      version: meta.version ?? "",
      description: subject.description ?? "",
      usage: usageLine(chosen),
      args: { ...argsDef, version: VERSION_OPTION, help: HELP_OPTION },
      commands,
      calledAs: chosen.calledAs,
    },
    forTerminal,
  );
}

/**
 * Runs the command argv names (install, uninstall, doctor, run; `guestCommand` when none is named)
 * after checking its options strictly (launcher/argv.ts), as citty alone would not. Nothing after the
 * first `--` is read. A bad command line prints what is wrong and a usage line, and exits 1 before
 * anything is done.
 */
export async function runCommandLine<T extends ArgsDef>(main: CommandDef<T>, argv: string[], guestCommand: string): Promise<void> {
  let chosen: ChosenCommand | undefined;
  try {
    const command = await chooseCommand(main, argv, guestCommand);
    chosen = command;
    const checked = checkArgv(command.argv, command.argsDef, command.takesGuest, (word) => refuseMisplacedCommand(command, word));
    if (checked.help) {
      writeText(1, `${await helpText(main, command, isTerminal(1))}\n`);
      return;
    }
    if (checked.version) {
      writeText(1, `${(await resolved(main.meta ?? {})).version ?? ""}\n`);
      return;
    }
    await runCommand(command.command, { rawArgs: checked.guest === null ? checked.options : [...checked.options, "--", ...checked.guest] });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const log = createLogger("tap-launcher");
    log.error(err.message);
    if (chosen !== undefined) log.info(`usage: ${usageLine(chosen)} (${chosen.calledAs} --help lists the options)`);
    process.exitCode = 1;
  }
}
