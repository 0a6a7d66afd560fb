// Leaves a persistent vnet-header TAP as an earlier program may have: another header size and offloads on. As root: `bun tap-vnet-setup.ts NAME HEADER_BYTES OFFLOADS`.
// With "get" instead of the two numbers, prints the TAP's header size.
import { IFF_NO_PI, IFF_TAP, IFF_VNET_HDR } from "../../shared/kernel.ts";
import { TUNGETVNETHDRSZ, TUNSETOFFLOAD, TUNSETVNETHDRSZ } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl } from "../../shared/libc.ts";
import { attachExistingTap, openTunDevice } from "../../shared/tap.ts";

const [name = "", headerBytes = "get", offloads = "0"] = process.argv.slice(2);
const fd = openTunDevice();
try {
  attachExistingTap(fd, name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
  const size = new Int32Array(1);
  if (headerBytes === "get") {
    ioctl(fd, TUNGETVNETHDRSZ, "TUNGETVNETHDRSZ", new Uint8Array(size.buffer), name);
    console.log(size[0]);
  } else {
    size[0] = Number(headerBytes);
    ioctl(fd, TUNSETVNETHDRSZ, "TUNSETVNETHDRSZ", new Uint8Array(size.buffer), name);
    ioctl(fd, TUNSETOFFLOAD, "TUNSETOFFLOAD", Number(offloads), name);
  }
} finally {
  closeFd(fd);
}
