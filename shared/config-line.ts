// A line of the ACL or the policy that cannot be read (its file, line and problem), and how its text is shown in messages.
/** The whole file is then refused: each language's error (AclSyntaxError, PolicySyntaxError) is one of these. */
export class FileLineError extends Error {
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = new.target.name;
  }
}

/** A printable rendering of a line's text for messages: control bytes escaped, long lines cut. */
export function quoteLine(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}
