// Tries again and again to attach a queue to a TAP that does not exist yet, as a hostile local user would: `bun queue-racer.ts NAME FLAGS`.
// Prints "ready", then "attached" once a TUNSETIFF succeeds (and holds that queue until killed) or "gave up" after 20 s.
import { SysError } from "../../shared/errors.ts";
import { attachExistingTap, openTunDevice } from "../../shared/tap.ts";

const [name = "", flags = "0"] = process.argv.slice(2);
const fd = openTunDevice();
const deadline = Date.now() + 20_000;
console.log("ready");
for (;;) {
  try {
    attachExistingTap(fd, name, Number(flags));
    console.log("attached");
    break;
  } catch (err) {
    // EPERM while the device is missing (creating one needs CAP_NET_ADMIN) or once it has an owner.
    if (!(err instanceof SysError)) throw err;
    if (Date.now() > deadline) {
      console.log("gave up");
      process.exit(1);
    }
  }
}
setInterval(() => undefined, 60_000); // holds the queue's fd until killed
