// A preload that appends the path of every .ts module Bun evaluates to the file named by $TL_MODULES_FILE.
import { appendFileSync } from "node:fs";

const record = process.env.TL_MODULES_FILE;
if (record !== undefined) {
  Bun.plugin({
    name: "module-recorder",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        appendFileSync(record, `${path}\n`);
        return { contents: await Bun.file(path).text(), loader: "ts" };
      });
    },
  });
}
