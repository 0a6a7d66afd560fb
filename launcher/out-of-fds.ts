// Recognising a failure because no fd was left, wherever it happened: the launcher reports it once, as such.
import { errorCode, SysError } from "../shared/errors.ts";

/** The errno name and the call when `err` says the process (EMFILE) or the system (ENFILE) has no fd left, else null. */
export function outOfFds(err: unknown): { code: "EMFILE" | "ENFILE"; call: string } | null {
  const code = errorCode(err);
  if (code !== "EMFILE" && code !== "ENFILE") return null;
  const call = err instanceof SysError ? err.call : (err as { syscall?: unknown }).syscall;
  return { code, call: typeof call === "string" ? call : "open" };
}
