// Every error message the man pages' DIAGNOSTICS sections list is one the code prints, and every error
// message the code prints is listed there.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { codeMessages, codeText, fixedParts, ROOT, signature, tableMessages, tableText } from "./messages.ts";

test("the extraction finds the programs' messages and the pages' entries", () => {
  expect(codeMessages().length).toBeGreaterThan(80);
  expect(tableMessages().length).toBeGreaterThan(70);
});

test("every message the code prints is in a man page's DIAGNOSTICS", () => {
  const table = tableText();
  const missing = codeMessages()
    .filter(({ message }) => !table.includes(signature(message)))
    .map(({ file, message }) => `${file}: ${message}`);
  expect(missing).toEqual([]);
});

test("every message in the DIAGNOSTICS sections is one the code prints", () => {
  const code = codeText();
  const unknown = tableMessages().filter((message) => !fixedParts(message).every((part) => code.includes(part)));
  expect(unknown).toEqual([]);
});

test("a message the code never prints would be caught", () => {
  const code = codeText();
  expect(fixedParts("failed to reticulate splines 'BR': …").every((part) => code.includes(part))).toBe(false);
});

test("quotes count: a row that quotes differently from the code is caught both ways", () => {
  const code = codeText();
  // The code prints failed to find bridge `br0' (a backtick, then a quote), as qemu-bridge-helper does.
  expect(fixedParts("failed to find bridge 'BR': …").every((part) => code.includes(part))).toBe(false);
  expect(fixedParts("failed to find bridge `BR': …").every((part) => code.includes(part))).toBe(true);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a message as the code's source spells it, template and all
  expect(tableText()).toContain(signature("failed to find bridge `${args.bridge}'"));
  expect(tableText()).not.toContain("failed to find bridge 'BR'");
});

test("one reference: no message the man pages list is quoted again in the README or docs/", () => {
  const prose = ["README.md", ...readdirSync(join(ROOT, "docs")).map((name) => join("docs", name))];
  const quoted: string[] = [];
  for (const file of prose) {
    const text = readFileSync(join(ROOT, file), "utf8").replace(/\s+/g, " ");
    for (const message of tableMessages()) {
      const identifying = signature(message);
      if (identifying.length >= 20 && text.includes(identifying)) quoted.push(`${file}: ${identifying}`);
    }
  }
  expect(quoted).toEqual([]);
});
