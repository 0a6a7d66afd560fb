// Phase 4, hand over: the audit line first (docs/audit.md), then the TAP given to the caller, brought up, its fds sent.
import { sendFds } from "../shared/fdpass.ts";
import type { InterfaceControl } from "../shared/netdev.ts";
import { setTapOwnership } from "../shared/tap.ts";
import { attempt } from "./attempt.ts";
import type { Port } from "./port.ts";

/** The send's wait for room in the socket: QEMU and libvirt read at once; a caller that never does must not keep a TAP or helper alive. */
const SEND_TIMEOUT_MS = 5000;
/** Who gets the TAP: the caller's real ids, as the shim left them. */
export type TapOwner = { uid: number; gid: number };

/** `owned`: root holds the TAP, to be given to `owner`. throws StepError. */
export function handOverTap(port: Port, owned: boolean, owner: TapOwner, socketFd: number, control: InterfaceControl, audit: () => void) {
  const tap = port.name ?? "";
  const [fd] = port.fds;
  audit();
  if (owned && fd !== undefined) attempt(`set owner of device \`${tap}'`, () => setTapOwnership(fd, owner.uid, owner.gid, tap));
  attempt(`bring up interface \`${tap}'`, () => control.bringUp(tap));
  attempt(`write fd to unix socket --fd=${socketFd}`, () => sendFds(socketFd, port.fds, SEND_TIMEOUT_MS), {
    EPIPE: "the receiving end closed the socket before the fd arrived",
    ETIMEDOUT: "the program that ran the helper must read the fd at once, as QEMU and libvirt do",
  });
  port.handedOver = true;
}
