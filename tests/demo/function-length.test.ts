// The privileged programs read as short phases: no function in helper/ or policy/ (or acl/, usernet/) runs over 60 lines.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ts from "typescript";
import { ROOT } from "./messages.ts";

const FOLDERS = ["helper", "helper/user-nic", "policy", "acl", "usernet"];
const MOST_LINES = 60;

/** `file:line name (N lines)` for each function, method or arrow function in `file` longer than MOST_LINES. */
function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const lines = lineOf(node.getEnd()) - lineOf(node.getStart()) + 1;
      const name = node.name?.getText(source) ?? "(anonymous)";
      if (lines > MOST_LINES) found.push(`${file}:${lineOf(node.getStart())} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test(`no function of the privileged programs' own folders is over ${MOST_LINES} lines`, () => {
  const files = FOLDERS.flatMap((folder) =>
    readdirSync(join(ROOT, folder))
      .filter((name) => name.endsWith(".ts"))
      .map((name) => `${folder}/${name}`),
  );
  expect(files).toContain("helper/main.ts");
  expect(files.flatMap(longFunctions)).toEqual([]);
});
