// Loaded before every test file (bunfig.toml): removes what the run made, also what an abandoned
// (timed-out) test could not remove itself: namespaces with their processes, temporary folders.
import { afterAll } from "bun:test";
import { removeTempFolders } from "./build.ts";
import { disposeAllNetns } from "./netns.ts";

afterAll(async () => {
  await disposeAllNetns();
  removeTempFolders();
});
