/* The exec shim of a privileged program (tap-bridge-helper), the only privileged file: setuid root (setuid mode) or
 * cap_net_admin+p (caps mode), TAP_PROGRAM_NAME and TAP_HELPER_PATH fixed at build. It becomes the caller (real ids,
 * supplementary groups kept) with CAP_NET_ADMIN alone, ambient, no further privilege gain, no environment, in /, and
 * executes TAP_HELPER_PATH with argv but argv[0] = TAP_PROGRAM_NAME, which picks the program (some Bun versions acted
 * as the bun CLI for "bun"). It reads nothing the caller controls but argv, uninterpreted. Exit status: 1 when a step
 * fails (the message names it), else the helper's. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if !defined(TAP_HELPER_PATH) || !defined(TAP_PROGRAM_NAME)
#error "compile with -DTAP_PROGRAM_NAME='\"tap-bridge-helper\"' -DTAP_HELPER_PATH='\"/prefix/libexec/tap-bridge-helper.bun\"'"
#endif

/* Set once the shim is the caller: EPERM then means exec granted no privilege, for a reason outside the shim, named. */
static const char *eperm_cause;

static void __attribute__((noreturn)) fail(const char *step)
{
    const int error = errno;
    fprintf(stderr, TAP_PROGRAM_NAME ": failed to %s: %s\n", step, strerror(error));
    if (error == EPERM && eperm_cause != NULL) fprintf(stderr, TAP_PROGRAM_NAME ": %s\n", eperm_cause);
    _exit(1);
}

int main(int argc, char **argv)
{
    const __u32 net_admin = 1u << CAP_NET_ADMIN;
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    /* argv[0] is replaced below; with no arguments at all there is nothing to replace. */
    if (argc < 1) return 1;
    /* A root exec would regain the whole bounding set: shrink it to CAP_NET_ADMIN. That needs CAP_SETPCAP (setuid mode,
     * or root); without it no exec gains anything anyway (no_new_privs, below). EINVAL marks the last capability. */
    for (int cap = 0; cap < 64; cap++) {
        if (cap == CAP_NET_ADMIN || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL) break;
        if (errno != EPERM || uid == 0) fail("shrink the capability bounding set");
    }
    /* Keep the permitted set while the user ids change from root to the caller (setuid mode). */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) fail("keep capabilities");
    if (setresgid(gid, gid, gid) != 0) fail("set group ids to the caller's");
    if (setresuid(uid, uid, uid) != 0) fail("set user ids to the caller's");
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("reset keep-capabilities");
    /* The kernel ignores the setuid bit and file capabilities on a nosuid mount and under no_new_privs. */
    eperm_cause = "it started without its privilege: it sits on a nosuid mount (install it on another: tap-launcher install "
                  "--prefix=DIR), or the caller runs under no_new_privs (systemd NoNewPrivileges=, a container, flatpak: "
                  "run the VM outside that, or use a TAP made beforehand with tap-launcher --tap=NAME --unmanaged, which "
                  "needs no privilege), or it lost its setuid bit or capability (reinstall it); tap-launcher doctor tells which";
    /* capset(2) on this (only) thread; capabilities 0-31 live in the first word. */
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = { { net_admin, net_admin, net_admin }, { 0, 0, 0 } };
    if (syscall(SYS_capset, &header, data) != 0) fail("keep only CAP_NET_ADMIN");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) fail("clear ambient capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) != 0) fail("pass CAP_NET_ADMIN on");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("set no_new_privs");
    if (clearenv() != 0 || setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) != 0) fail("clear the environment");
    umask(022);
    if (chdir("/") != 0) fail("change directory to /");
    argv[0] = (char *)TAP_PROGRAM_NAME;
    execv(TAP_HELPER_PATH, argv);
    fail("execute " TAP_HELPER_PATH);
}
