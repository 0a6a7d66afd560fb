// The test helper that reads a child's output by lines: every line comes out, the last one even without "\n".
import { expect, test } from "bun:test";
import { lineReader } from "./lines.ts";

/** A stream that delivers `chunks` one read at a time, as a pipe from a child would. */
function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function allLines(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const next = lineReader(stream);
  const lines: string[] = [];
  for (let line = await next(); line !== null; line = await next()) lines.push(line);
  return lines;
}

test("a last line without a newline is returned, then the end", async () => {
  expect(await allLines(streamOf("first\nsec", "ond\nlast"))).toEqual(["first", "second", "last"]);
});

test("lines split across reads and several lines in one read come out one by one", async () => {
  expect(await allLines(streamOf("a\nb", "\n\nc\n"))).toEqual(["a", "b", "", "c"]);
});

test("a multi-byte character split across reads is decoded whole", async () => {
  const bytes = new TextEncoder().encode("é…\n");
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const byte of bytes) controller.enqueue(Uint8Array.of(byte));
      controller.close();
    },
  });
  expect(await allLines(stream)).toEqual(["é…"]);
});
