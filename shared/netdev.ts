// Interface configuration through SIOC* ioctls on a control socket: MTU, MAC, flags, bridge ports.
import { closeFd, ioctlBuffer, openSocket } from "./libc.ts";
import {
  AF_INET,
  IFNAMSIZ,
  IFF_UP,
  SIOCBRADDIF,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFINDEX,
  SIOCGIFMTU,
  SIOCSIFFLAGS,
  SIOCSIFHWADDR,
  SIOCSIFMTU,
  SIOCSIFNAME,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "./kernel.ts";
import { ifreqFlags, ifreqFor, ifreqInt, ifreqMac, setIfreqFlags, setIfreqInt, setIfreqMac } from "./ifreq.ts";

/**
 * A control socket for configuring interfaces in the caller's network namespace. Every method
 * throws SysError naming the ioctl and the device. close() is idempotent.
 */
export class InterfaceControl {
  #fd: number;

  constructor() {
    this.#fd = openSocket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC);
  }

  #ioctl(request: number, name: string, ifreq: Uint8Array, device: string): void {
    ioctlBuffer(this.#fd, request, name, ifreq, device);
  }

  /**
   * The interface index of `device` (SIOCGIFINDEX), which the kernel also finds by an alternative
   * name. throws SysError(ENODEV) when no device has that name in this namespace. (Not
   * if_nametoindex(3): it opens a socket of its own and can report a failure there with another errno.)
   */
  index(device: string): number {
    const ifreq = ifreqFor(device);
    this.#ioctl(SIOCGIFINDEX, "SIOCGIFINDEX", ifreq, device);
    return ifreqInt(ifreq);
  }

  /** The interface's MTU (SIOCGIFMTU). */
  mtu(device: string): number {
    const ifreq = ifreqFor(device);
    this.#ioctl(SIOCGIFMTU, "SIOCGIFMTU", ifreq, device);
    return ifreqInt(ifreq);
  }

  setMtu(device: string, mtu: number): void {
    const ifreq = ifreqFor(device);
    setIfreqInt(ifreq, mtu);
    this.#ioctl(SIOCSIFMTU, "SIOCSIFMTU", ifreq, device);
  }

  /** The hardware address and its family (SIOCGIFHWADDR). */
  hardwareAddress(device: string): { family: number; mac: Uint8Array } {
    const ifreq = ifreqFor(device);
    this.#ioctl(SIOCGIFHWADDR, "SIOCGIFHWADDR", ifreq, device);
    return { family: new DataView(ifreq.buffer).getUint16(16, true), mac: ifreqMac(ifreq) };
  }

  setHardwareAddress(device: string, family: number, mac: Uint8Array): void {
    const ifreq = ifreqFor(device);
    setIfreqMac(ifreq, family, mac);
    this.#ioctl(SIOCSIFHWADDR, "SIOCSIFHWADDR", ifreq, device);
  }

  /** Makes `device` a port of `bridge` (SIOCBRADDIF); EOPNOTSUPP when `bridge` is no bridge. */
  addToBridge(bridge: string, device: string): void {
    const ifreq = ifreqFor(bridge);
    setIfreqInt(ifreq, this.index(device));
    this.#ioctl(SIOCBRADDIF, "SIOCBRADDIF", ifreq, `${device} to ${bridge}`);
  }

  /** Renames the down `device` to `name`, which may be a kernel template (`tap%d`) (SIOCSIFNAME). */
  rename(device: string, name: string): void {
    const ifreq = ifreqFor(device);
    ifreq.set(Buffer.from(name, "ascii"), IFNAMSIZ); // ifr_newname, in the union after ifr_name
    this.#ioctl(SIOCSIFNAME, "SIOCSIFNAME", ifreq, device);
  }

  /** Sets IFF_UP, keeping the other flags. */
  bringUp(device: string): void {
    const ifreq = ifreqFor(device);
    this.#ioctl(SIOCGIFFLAGS, "SIOCGIFFLAGS", ifreq, device);
    setIfreqFlags(ifreq, ifreqFlags(ifreq) | IFF_UP);
    this.#ioctl(SIOCSIFFLAGS, "SIOCSIFFLAGS", ifreq, device);
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
}
