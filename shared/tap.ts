// TAP devices through /dev/net/tun: feature probing, creation, ownership.
import { ioctl, openPath } from "./libc.ts";
import * as linux from "./kernel.ts";
import { ifreqForTemplate, ifreqName, IFREQ_SIZE, setIfreqFlags } from "./ifreq.ts";

export const TUN_DEVICE = "/dev/net/tun";

/** The TAP's owner and group, who alone (or CAP_NET_ADMIN) may attach it again. throws SysError(EINVAL for an unmapped id, EBADFD). */
export function setTapOwnership(tunFd: number, uid: number, gid: number, device: string): void {
  ioctl(tunFd, linux.TUNSETOWNER, "TUNSETOWNER", uid, device);
  ioctl(tunFd, linux.TUNSETGROUP, "TUNSETGROUP", gid, device);
}

/** Opens /dev/net/tun (close-on-exec). throws SysError(ENOENT, EACCES, ...). */
export function openTunDevice(): number {
  return openPath(TUN_DEVICE, linux.O_RDWR | linux.O_CLOEXEC);
}

/** The IFF_* flags the kernel's TUN driver supports (TUNGETFEATURES) on an unattached fd. */
export function tunFeatures(tunFd: number): number {
  const features = new Uint8Array(IFREQ_SIZE);
  ioctl(tunFd, linux.TUNGETFEATURES, "TUNGETFEATURES", features, TUN_DEVICE);
  return new DataView(features.buffer).getUint32(0, true);
}

/** The TUNSETIFF flags of the TAPs the helper makes: no packet info, the virtio-net header and several queues on request. */
export function newTapFlags(vnetHeader: boolean, multiQueue: boolean): number {
  return linux.IFF_TAP | linux.IFF_NO_PI | (vnetHeader ? linux.IFF_VNET_HDR : 0) | (multiQueue ? linux.IFF_MULTI_QUEUE : 0);
}

/** Attaches `tunFd` to a new TAP from `template` (`tap%d`) or to the TAP so named if flags match. throws SysError(EPERM, EBUSY, EINVAL). */
export function attachNewTap(tunFd: number, template: string, flags: number): string {
  const ifreq = setIfreqFlags(ifreqForTemplate(template), flags);
  ioctl(tunFd, linux.TUNSETIFF, "TUNSETIFF", ifreq, template);
  return ifreqName(ifreq);
}

/** attachNewTap for an existing TAP, as libvirt attaches unmanaged devices. */
export const attachExistingTap: (tunFd: number, name: string, flags: number) => void = attachNewTap;
