// Tries to attach one more queue to an existing TAP, as any holder of /dev/net/tun could: `bun attach-queue.ts NAME FLAGS`; prints "attached" or the errno's name.
import { SysError } from "../../shared/errors.ts";
import { closeFd } from "../../shared/libc.ts";
import { attachExistingTap, openTunDevice } from "../../shared/tap.ts";

const [name = "", flags = "0"] = process.argv.slice(2);
const fd = openTunDevice();
try {
  attachExistingTap(fd, name, Number(flags));
  console.log("attached");
} catch (err) {
  if (!(err instanceof SysError)) throw err;
  console.log(err.code);
} finally {
  closeFd(fd);
}
