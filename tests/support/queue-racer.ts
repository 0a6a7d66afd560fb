// Tries again and again to attach a queue to a TAP that does not exist yet, as a hostile local user would: `bun queue-racer.ts NAME FLAGS [ACTION]`.
// NAME `new` means the first TAP that appears under a name the helper does not keep (`tap` and 12 hex digits), as one watching new links would.
// Prints "ready", then "attached" once a TUNSETIFF succeeds, or "gave up" after 20 s. ACTION is what it does with the queue:
// hold (keep it until killed), persist (TUNSETPERSIST 1, then close it) or owner (TUNSETOWNER/TUNSETGROUP to itself for 400 ms, then close it);
// every (with NAME `new`: a queue of each new TAP that appears, each kept, "attached" printed for each, until killed).
import { readdirSync } from "node:fs";
import { SysError } from "../../shared/errors.ts";
import { TUNSETGROUP, TUNSETOWNER } from "../../shared/kernel.ts";
import { TUNSETPERSIST } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl } from "../../shared/libc.ts";
import { attachExistingTap, openTunDevice } from "../../shared/tap.ts";

const [wanted = "", flags = "0", action = "hold"] = process.argv.slice(2);
if (action === "every") {
  console.log("ready");
  const held = new Set<string>();
  for (;;) {
    for (const link of readdirSync("/sys/class/net").filter((link) => /^tap[0-9a-f]{12}$/.test(link) && !held.has(link))) {
      const queue = openTunDevice();
      try {
        attachExistingTap(queue, link, Number(flags));
        held.add(link);
        console.log("attached");
      } catch (err) {
        if (!(err instanceof SysError)) throw err;
        closeFd(queue);
      }
    }
  }
}
let name = wanted;
const fd = openTunDevice();
const deadline = Date.now() + 20_000;
console.log("ready");
for (;;) {
  try {
    if (wanted === "new") name = readdirSync("/sys/class/net").find((link) => /^tap[0-9a-f]{12}$/.test(link)) ?? "tap-none";
    attachExistingTap(fd, name, Number(flags));
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
if (action === "persist") {
  ioctl(fd, TUNSETPERSIST, "TUNSETPERSIST", 1, name);
  closeFd(fd);
} else if (action === "owner") {
  // Past the helper's own TUNSETOWNER(0), then gone before it counts the queues.
  for (const until = Date.now() + 400; Date.now() < until; ) {
    ioctl(fd, TUNSETOWNER, "TUNSETOWNER", process.getuid?.() ?? -1, name);
    ioctl(fd, TUNSETGROUP, "TUNSETGROUP", process.getgid?.() ?? -1, name);
  }
  closeFd(fd);
}
console.log("attached");
if (action === "hold") setInterval(() => undefined, 60_000); // holds the queue's fd until killed
