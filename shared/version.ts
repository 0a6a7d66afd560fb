// The version both programs print with --version and the man pages show: package.json's, built in.
import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;
