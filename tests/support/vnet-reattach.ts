// The holder of a TAP's fd (fd 3) turning its virtio-net header on, then writing one frame: `bun vnet-reattach.ts NAME HEX`; prints one JSON line.
//
// It asks for no privilege: whoever holds an attached fd may make the TAP persistent (TUNSETPERSIST),
// and the TAP's owner may attach a persistent TAP again with new TUNSETIFF flags, IFF_VNET_HDR among
// them. Run as the TAP's owner in its network namespace; any other holder of the fd closes it too.
import { SysError } from "../../shared/errors.ts";
import { IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from "../../shared/kernel.ts";
import { TUNGETIFF, TUNSETPERSIST } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl, writeOrErrno } from "../../shared/libc.ts";
import { attachExistingTap, openTunDevice } from "../../shared/tap.ts";

const HELD_FD = 3;
const [name = "", hex = ""] = process.argv.slice(2);
ioctl(HELD_FD, TUNSETPERSIST, "TUNSETPERSIST", 1, name);
closeFd(HELD_FD);
const fd = openTunDevice();
try {
  // EBUSY while another holder of the old fd has not closed it yet.
  let attached = "EBUSY";
  for (const until = Date.now() + 3000; attached === "EBUSY" && Date.now() < until; ) {
    try {
      attachExistingTap(fd, name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
      attached = "attached";
    } catch (err) {
      if (!(err instanceof SysError)) throw err;
      attached = err.code;
      if (attached === "EBUSY") Bun.sleepSync(20);
    }
  }
  const ifreq = new Uint8Array(40);
  if (attached === "attached") ioctl(fd, TUNGETIFF, "TUNGETIFF", ifreq, name);
  const vnetHeader = (new DataView(ifreq.buffer).getUint16(16, true) & IFF_VNET_HDR) !== 0;
  const written = attached === "attached" ? writeOrErrno(fd, Uint8Array.from(Buffer.from(hex, "hex"))) : null;
  console.log(JSON.stringify({ attached, vnetHeader, written }));
} finally {
  closeFd(fd);
}
