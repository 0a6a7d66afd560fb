// Linux errno numbers and their symbolic names (<asm-generic/errno-base.h>, <asm-generic/errno.h>).

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC",
  9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY",
  17: "EEXIST", 18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE",
  24: "EMFILE", 25: "ENOTTY", 26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS",
  32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS", 40: "ELOOP", 61: "ENODATA",
  71: "EPROTO", 75: "EOVERFLOW", 77: "EBADFD", 88: "ENOTSOCK", 89: "EDESTADDRREQ", 90: "EMSGSIZE",
  91: "EPROTOTYPE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT",
  98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 103: "ECONNABORTED",
  104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 110: "ETIMEDOUT",
  111: "ECONNREFUSED", 113: "EHOSTUNREACH", 114: "EALREADY", 115: "EINPROGRESS",
};

// Only the values code compares errno against; messages name the others through errnoName().
export const ENOENT = 2, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENODATA = 61, EMSGSIZE = 90, ETIMEDOUT = 110;
export const EEXIST = 17, EPIPE = 32, ENOBUFS = 105;
// The relay's (launcher/datapath): the TAP gone, the guest's end of the socket closed.
export const EBADFD = 77, ECONNRESET = 104, ENOTCONN = 107, ECONNREFUSED = 111;

/** The symbolic name of an errno value (`EPERM`), or `E<number>` for one this table lacks. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}
