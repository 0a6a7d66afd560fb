/* hold-at-ioctl: run a program and hold it at one ioctl(2), before the kernel runs it, until told to go on.
 *
 * `hold-at-ioctl REQUEST VALUE HELD_PATH PROGRAM ARGS...` (VALUE `any` matches every third argument, such
 * as a pointer to an ifreq): forks and executes PROGRAM traced (root's
 * trace keeps the privileges a setuid or file-caps exec gives), follows its first thread through every
 * exec, and at the entry of the first ioctl(fd, REQUEST, VALUE) of that thread writes its own pid to
 * HELD_PATH (whole, by a rename) and waits for SIGUSR1; then lets it go on untraced and exits with its status (128+N for signal N). A race
 * that needs the program between two steps is then played in order, not by timing. The program dies
 * with this one (PTRACE_O_EXITKILL). x86-64 only (the registers read).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static int exit_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: hold-at-ioctl REQUEST VALUE HELD_PATH PROGRAM ARGS...\n");
    return 2;
  }
  unsigned long request = strtoul(argv[1], NULL, 0);
  int any_value = strcmp(argv[2], "any") == 0;
  unsigned long value = any_value ? 0 : strtoul(argv[2], NULL, 0);
  const char *held_path = argv[3];
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  sigprocmask(SIG_BLOCK, &go, NULL);
  pid_t child = fork();
  if (child < 0) return perror("fork"), 2;
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &go, NULL);
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) return perror("PTRACE_TRACEME"), 127;
    execvp(argv[4], argv + 4);
    perror(argv[4]);
    return 127;
  }
  int status;
  /* The stop after the first exec, before options: a plain SIGTRAP. */
  if (waitpid(child, &status, 0) < 0 || !WIFSTOPPED(status)) return WIFEXITED(status) ? exit_status(status) : 2;
  if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0)
    return perror("PTRACE_SETOPTIONS"), 2;
  int signal_to_pass = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSCALL, child, NULL, (void *)(long)signal_to_pass) < 0) return perror("PTRACE_SYSCALL"), 2;
    signal_to_pass = 0;
    if (waitpid(child, &status, 0) < 0) return perror("waitpid"), 2;
    if (WIFEXITED(status) || WIFSIGNALED(status)) return exit_status(status);
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
      /* An event (exec) passes nothing; a signal is passed on as it came. */
      if (status >> 16 == 0) signal_to_pass = WSTOPSIG(status);
      continue;
    }
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, child, NULL, &regs) < 0) return perror("PTRACE_GETREGS"), 2;
    /* At a syscall's entry the kernel has set rax to -ENOSYS; at its exit rax holds the result. */
    int entry = (long)regs.rax == -ENOSYS;
    if (entry && regs.orig_rax == SYS_ioctl && regs.rsi == request && (any_value || regs.rdx == value)) break;
  }
  char partial[4096];
  snprintf(partial, sizeof partial, "%s.partial", held_path);
  FILE *held = fopen(partial, "wx");
  if (held == NULL) return perror(partial), 2;
  fprintf(held, "%d\n", (int)getpid());
  if (fclose(held) != 0 || rename(partial, held_path) != 0) return perror(held_path), 2;
  int caught;
  sigwait(&go, &caught);
  if (ptrace(PTRACE_DETACH, child, NULL, NULL) < 0) return perror("PTRACE_DETACH"), 2;
  if (waitpid(child, &status, 0) < 0) return perror("waitpid"), 2;
  return exit_status(status);
}
