// Reading a child's output line by line, waiting for a given line.

/** Returns a function that resolves with the next line of `stream` (null at its end). */
export function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string | null> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  return async () => {
    for (;;) {
      const newline = pending.indexOf("\n");
      if (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) {
        // The last line may lack its newline: return it once, then the end.
        const last = pending + decoder.decode();
        pending = "";
        return last.length > 0 ? last : null;
      }
      pending += decoder.decode(value, { stream: true });
    }
  };
}
