// TAP devices through /dev/net/tun: feature probing, creation, ownership.
import { ioctlBuffer, ioctlValue, openPath } from "./libc.ts";
import {
  IFF_MULTI_QUEUE,
  IFF_NO_PI,
  IFF_TAP,
  IFF_VNET_HDR,
  O_CLOEXEC,
  O_RDWR,
  TUNGETFEATURES,
  TUNSETGROUP,
  TUNSETIFF,
  TUNSETOWNER,
} from "./kernel.ts";
import { ifreqForTemplate, ifreqName, IFREQ_SIZE, setIfreqFlags } from "./ifreq.ts";

export const TUN_DEVICE = "/dev/net/tun";

/**
 * Gives the TAP behind `tunFd` an owner and a group (TUNSETOWNER, TUNSETGROUP): only a process with
 * that effective uid and in that group (or with CAP_NET_ADMIN) can attach it again, which matters
 * once it is persistent. The kernel lets any holder of an attached fd change both later.
 * throws SysError(EINVAL for an id without a mapping, EBADFD when unattached).
 */
export function setTapOwnership(tunFd: number, uid: number, gid: number, device: string): void {
  ioctlValue(tunFd, TUNSETOWNER, "TUNSETOWNER", uid, device);
  ioctlValue(tunFd, TUNSETGROUP, "TUNSETGROUP", gid, device);
}

/** Opens /dev/net/tun (close-on-exec). throws SysError(ENOENT, EACCES, ...). */
export function openTunDevice(): number {
  return openPath(TUN_DEVICE, O_RDWR | O_CLOEXEC);
}

/** The IFF_* flags the kernel's TUN driver supports (TUNGETFEATURES) on an unattached fd. */
export function tunFeatures(tunFd: number): number {
  const features = new Uint8Array(IFREQ_SIZE);
  ioctlBuffer(tunFd, TUNGETFEATURES, "TUNGETFEATURES", features, TUN_DEVICE);
  return new DataView(features.buffer).getUint32(0, true);
}

/** The TUNSETIFF flags of the TAPs the helper makes: no packet info, the virtio-net header and several queues on request. */
export function newTapFlags(vnetHeader: boolean, multiQueue: boolean): number {
  return IFF_TAP | IFF_NO_PI | (vnetHeader ? IFF_VNET_HDR : 0) | (multiQueue ? IFF_MULTI_QUEUE : 0);
}

/**
 * Attaches an open /dev/net/tun fd to a new TAP named after `template` (`tap%d`) with `flags` (see
 * newTapFlags). Returns the name the kernel chose.
 * throws SysError(EPERM without CAP_NET_ADMIN, EBUSY, ...).
 */
export function attachNewTap(tunFd: number, template: string, flags: number): string {
  const ifreq = ifreqForTemplate(template);
  setIfreqFlags(ifreq, flags);
  ioctlBuffer(tunFd, TUNSETIFF, "TUNSETIFF", ifreq, template);
  return ifreqName(ifreq);
}

/**
 * Attaches an open /dev/net/tun fd to the existing TAP `name` with exactly `flags`, as libvirt does
 * for unmanaged devices. throws SysError(EPERM when owned by someone else, EINVAL on a flag mismatch).
 */
export function attachExistingTap(tunFd: number, name: string, flags: number): void {
  const ifreq = ifreqForTemplate(name);
  setIfreqFlags(ifreq, flags);
  ioctlBuffer(tunFd, TUNSETIFF, "TUNSETIFF", ifreq, name);
}
