// A small epoll set for the relay: which fds it waits on and for what, and the events one wait brings.
import { EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from "./kernel-launcher.ts";
import { closeFd } from "./libc.ts";
import { epollControl, epollCreate, epollWaitOrErrno } from "./libc-launcher.ts";

/**
 * struct epoll_event (<linux/eventpoll.h>): u32 events, then u64 data (here the fd, in its low half).
 * x86-64 declares it packed: 12 bytes, data at 4. aarch64 aligns data naturally: 4 bytes of padding,
 * data at 8, 16 bytes. Bun runs on no other 64-bit Linux; anything else is refused here rather than
 * guessed.
 */
function epollEventLayout(arch: string): { size: number; events: number; data: number } {
  if (arch === "x64") return { size: 12, events: 0, data: 4 };
  if (arch === "arm64") return { size: 16, events: 0, data: 8 };
  throw new Error(`struct epoll_event's layout is not known for ${arch}: only x64 and arm64 are supported`);
}

export const EPOLL_EVENT = epollEventLayout(process.arch);

/** An epoll instance over fds identified by number; level-triggered. close() is idempotent. */
export class EpollSet {
  readonly fd: number;
  #interest = new Map<number, number>();
  #registration = new Uint8Array(EPOLL_EVENT.size);
  #registrationView = new DataView(this.#registration.buffer);
  #events: Uint8Array;
  #eventsView: DataView;
  #capacity: number;
  #closed = false;

  /** throws SysError(EMFILE, ENOMEM, ...). */
  constructor(capacity: number) {
    this.fd = epollCreate(EPOLL_CLOEXEC);
    this.#capacity = capacity;
    this.#events = new Uint8Array(EPOLL_EVENT.size * capacity);
    this.#eventsView = new DataView(this.#events.buffer);
  }

  /**
   * Waits for `flags` (EPOLLIN, EPOLLOUT, ...) on `fd`; 0 takes it out of the set (a hung-up fd kept in
   * the set would wake every wait). Does nothing when the interest is unchanged. throws SysError.
   */
  watch(fd: number, flags: number): void {
    const before = this.#interest.get(fd) ?? 0;
    if (before === flags) return;
    this.#registrationView.setUint32(EPOLL_EVENT.events, flags, true);
    this.#registrationView.setUint32(EPOLL_EVENT.data, fd, true);
    this.#registrationView.setUint32(EPOLL_EVENT.data + 4, 0, true);
    const operation = flags === 0 ? EPOLL_CTL_DEL : before === 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    epollControl(this.fd, operation, fd, this.#registration);
    this.#interest.set(fd, flags);
  }

  /** epoll_wait(2) for at most `timeoutMs` (-1: no limit): how many fds are ready, or minus errno (EINTR is normal). */
  wait(timeoutMs: number): number {
    return epollWaitOrErrno(this.fd, this.#events, this.#capacity, timeoutMs);
  }

  /** The fd of ready event `i` (0 <= i < what wait() returned). */
  readyFd(i: number): number {
    return this.#eventsView.getUint32(i * EPOLL_EVENT.size + EPOLL_EVENT.data, true);
  }

  /** The events (EPOLLIN, EPOLLHUP, ...) of ready event `i`. */
  readyFlags(i: number): number {
    return this.#eventsView.getUint32(i * EPOLL_EVENT.size + EPOLL_EVENT.events, true);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }
}
