// Interface configuration through SIOC* ioctls on a control socket: MTU, MAC, flags, bridge ports.
import { closeFd, ioctl, openSocket } from "./libc.ts";
import * as linux from "./kernel.ts";
import { latin1Bytes } from "./text.ts";
import { ifreqFlags, ifreqFor, ifreqHardwareAddress, ifreqInt, setIfreqFlags, setIfreqInt, setIfreqMac } from "./ifreq.ts";

/** A control socket for interfaces in the caller's network namespace: methods throw SysError naming the ioctl; close() is idempotent. */
export class InterfaceControl {
  #fd = openSocket(linux.AF_INET, linux.SOCK_DGRAM | linux.SOCK_CLOEXEC);

  #ioctl(request: number, name: string, ifreq: Uint8Array, device: string): Uint8Array {
    ioctl(this.#fd, request, name, ifreq, device);
    return ifreq;
  }
  /** The index of `device` (an altname too). throws SysError(ENODEV) for none, where if_nametoindex(3) may fail on its own socket. */
  index(device: string): number {
    return ifreqInt(this.#ioctl(linux.SIOCGIFINDEX, "SIOCGIFINDEX", ifreqFor(device), device));
  }
  mtu(device: string): number {
    return ifreqInt(this.#ioctl(linux.SIOCGIFMTU, "SIOCGIFMTU", ifreqFor(device), device));
  }
  setMtu(device: string, mtu: number): void {
    this.#ioctl(linux.SIOCSIFMTU, "SIOCSIFMTU", setIfreqInt(ifreqFor(device), mtu), device);
  }
  hardwareAddress(device: string): { family: number; mac: Uint8Array } {
    return ifreqHardwareAddress(this.#ioctl(linux.SIOCGIFHWADDR, "SIOCGIFHWADDR", ifreqFor(device), device));
  }
  setHardwareAddress(device: string, family: number, mac: Uint8Array): void {
    this.#ioctl(linux.SIOCSIFHWADDR, "SIOCSIFHWADDR", setIfreqMac(ifreqFor(device), family, mac), device);
  }
  /** Makes `device` a port of `bridge`; EOPNOTSUPP when `bridge` is no bridge. */
  addToBridge(bridge: string, device: string): void {
    this.#ioctl(linux.SIOCBRADDIF, "SIOCBRADDIF", setIfreqInt(ifreqFor(bridge), this.index(device)), `${device} to ${bridge}`);
  }
  /** Renames the down `device` to `name`, which may be a kernel template (`tap%d`). */
  rename(device: string, name: string): void {
    const ifreq = ifreqFor(device);
    ifreq.set(latin1Bytes(name), linux.IFNAMSIZ); // ifr_newname, in the union after ifr_name
    this.#ioctl(linux.SIOCSIFNAME, "SIOCSIFNAME", ifreq, device);
  }
  bringUp(device: string): void {
    const ifreq = this.#ioctl(linux.SIOCGIFFLAGS, "SIOCGIFFLAGS", ifreqFor(device), device);
    this.#ioctl(linux.SIOCSIFFLAGS, "SIOCSIFFLAGS", setIfreqFlags(ifreq, ifreqFlags(ifreq) | linux.IFF_UP), device);
  }
  close(): void {
    const fd = this.#fd;
    this.#fd = -1;
    if (fd >= 0) closeFd(fd);
  }
}
