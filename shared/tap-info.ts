// What a TUN/TAP fd is attached to (TUNGETIFF): the launcher's check of an fd it was handed or opened.
import { ioctl } from "./libc.ts";
import { IFF_MULTI_QUEUE, IFF_TAP, IFF_VNET_HDR } from "./kernel.ts";
import { TUNGETIFF } from "./kernel-launcher.ts";
import { ifreqFlags, ifreqName, IFREQ_SIZE } from "./ifreq.ts";

/** What TUNGETIFF reports about an attached TUN/TAP fd. */
export interface TapInfo {
  name: string;
  flags: number;
  isTap: boolean;
  vnetHeader: boolean;
  multiQueue: boolean;
}

/** What an fd is attached to (TUNGETIFF). throws SysError(EBADFD if unattached, EINVAL if no tun fd). */
export function tapInfo(fd: number): TapInfo {
  const ifreq = new Uint8Array(IFREQ_SIZE);
  ioctl(fd, TUNGETIFF, "TUNGETIFF", ifreq, `fd ${fd}`);
  const flags = ifreqFlags(ifreq);
  return {
    name: ifreqName(ifreq),
    flags,
    isTap: (flags & IFF_TAP) !== 0,
    vnetHeader: (flags & IFF_VNET_HDR) !== 0,
    multiQueue: (flags & IFF_MULTI_QUEUE) !== 0,
  };
}
