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
      if (done) return pending.length > 0 ? ((pending = ""), pending) : null;
      pending += decoder.decode(value, { stream: true });
    }
  };
}
