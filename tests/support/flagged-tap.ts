// A persistent TAP made through TUNSETIFF with flags iproute2 cannot set (IFF_NAPI), run as root: `bun flagged-tap.ts NAME FLAGS UID`.
import { IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, TUNSETIFF, TUNSETOWNER } from "../../shared/kernel.ts";
import { IFF_NAPI, TUNSETPERSIST } from "../../shared/kernel-launcher.ts";
import { closeFd, ioctl } from "../../shared/libc.ts";
import { ifreqFor, setIfreqFlags } from "../../shared/ifreq.ts";
import { openTunDevice } from "../../shared/tap.ts";

/** The flags `ip tuntap add … mode tap vnet_hdr` gives a TAP, plus IFF_NAPI. */
export const NAPI_TAP_FLAGS = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_NAPI;

/** argv that makes, as root in the current network namespace, a persistent TAP `name` with `flags`, owned by `uid`. */
export function flaggedTapCommand(name: string, flags: number, uid: number): string[] {
  return [process.execPath, import.meta.path, name, String(flags), String(uid)];
}

if (import.meta.main) {
  const [name = "", flags = "", uid = ""] = process.argv.slice(2);
  const tunFd = openTunDevice();
  try {
    const ifreq = ifreqFor(name);
    setIfreqFlags(ifreq, Number(flags));
    ioctl(tunFd, TUNSETIFF, "TUNSETIFF", ifreq, name);
    ioctl(tunFd, TUNSETOWNER, "TUNSETOWNER", Number(uid), name);
    ioctl(tunFd, TUNSETPERSIST, "TUNSETPERSIST", 1, name);
  } finally {
    closeFd(tunFd);
  }
}
