// Loaded before every test file (bunfig.toml): removes the run's temporary folders at the end.
import { afterAll } from "bun:test";
import { removeTempFolders } from "./build.ts";

afterAll(removeTempFolders);
