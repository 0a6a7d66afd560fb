// A fake bridge helper that sends the fd of a file that is not a TAP (/dev/null) over --fd.
import { openSync } from "node:fs";
import { sendFds } from "../../shared/fdpass.ts";

const fdArg = process.argv.find((arg) => arg.startsWith("--fd="));
sendFds(Number(fdArg?.slice(5)), [openSync("/dev/null", "r")], 5000);
