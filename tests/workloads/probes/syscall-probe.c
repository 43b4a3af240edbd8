/* Syscall probe: tries each syscall a sandbox must not reach, through every ABI, plus a few it
 * must reach, each in a child process (a filter may kill the caller), and prints one line per
 * attempt: `NAME ok`, `NAME errno N`, `NAME signal N` or `NAME not-reached` (a call that returned
 * but did something else). Never run it on a host: it mounts, unshares and opens raw sockets. Static: runs in any template. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define X32_BIT 0x40000000L

/* An i386 syscall through `int 0x80` (arguments truncated to 32 bits, as that ABI takes them). */
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;
}

static long io_uring_native(void) { char p[120] = {0}; return syscall(425, 1, p); }
static long io_uring_x32(void) { char p[120] = {0}; return syscall(425 | X32_BIT, 1, p); }
static long io_uring_i386(void) { long r = int80(425, 1, 0, 0); if (r < 0) { errno = (int)-r; return -1; } return r; }
static long vsock_native(void) { return socket(40, SOCK_STREAM, 0); }
static long vsock_i386_socketcall(void) {
  /* socketcall(SYS_SOCKET, args): args must be below 4 GiB for the i386 ABI; a static buffer is. */
  static unsigned int args[3] = {40, 1, 0};
  long r = int80(102, 1, (long)(unsigned long)args, 0);
  if (r < 0) { errno = (int)-r; return -1; }
  return r;
}
static long vsock_i386_socket(void) { long r = int80(359, 40, 1, 0); if (r < 0) { errno = (int)-r; return -1; } return r; }
static long packet_socket(void) { return socket(17, SOCK_RAW, 0); }
static long unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long unshare_net(void) { return unshare(CLONE_NEWNET); }
static long clone_newns(void) { return syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0); }
static long do_mount(void) { return mount("none", "/tmp", "tmpfs", 0, 0); }
static long bpf_call(void) { return syscall(321, 0, 0, 0); }
static long personality_exec(void) { return personality(READ_IMPLIES_EXEC); }
static long keyctl_call(void) { return syscall(250, 0, 0, 0, 0, 0); }
static long userfaultfd_call(void) { return syscall(323, 0); }
/* Allowed: these must work. */
static long inet_socket(void) { return socket(AF_INET, SOCK_STREAM, 0); }
static long unix_socket(void) { return socket(AF_UNIX, SOCK_STREAM, 0); }
static long personality_query(void) { return personality(0xffffffff); }
static long plain_fork(void) { pid_t p = fork(); if (p == 0) _exit(0); if (p > 0) waitpid(p, 0, 0); return p; }

struct probe { const char *name; long (*fn)(void); };
static const struct probe probes[] = {
  {"io_uring_setup", io_uring_native}, {"io_uring_setup/x32", io_uring_x32}, {"io_uring_setup/i386", io_uring_i386},
  {"socket_vsock", vsock_native}, {"socket_vsock/i386_socketcall", vsock_i386_socketcall}, {"socket_vsock/i386", vsock_i386_socket},
  {"socket_packet", packet_socket}, {"unshare_user", unshare_user}, {"unshare_net", unshare_net}, {"clone_newns", clone_newns},
  {"mount", do_mount}, {"bpf", bpf_call}, {"personality_read_implies_exec", personality_exec}, {"keyctl", keyctl_call},
  {"userfaultfd", userfaultfd_call},
  {"allowed:socket_inet", inet_socket}, {"allowed:socket_unix", unix_socket}, {"allowed:personality_query", personality_query},
  {"allowed:fork", plain_fork},
};

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      errno = 0;
      long r = probes[i].fn();
      int e = r < 0 ? errno : 0;
      /* A socket probe that got a descriptor: is it really of the family asked for? (gVisor runs
       * `int 0x80` as a 64-bit call: i386 socketcall's number is getuid there.) */
      if (r >= 0 && strncmp(probes[i].name, "socket_vsock", 12) == 0) {
        int domain = -1;
        socklen_t len = sizeof domain;
        if (getsockopt((int)r, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != 40) e = -2;
      }
      if (write(fds[1], &e, sizeof e) < 0) _exit(3);
      _exit(0);
    }
    close(fds[1]);
    int e = -1, status = 0;
    ssize_t got = read(fds[0], &e, sizeof e);
    close(fds[0]);
    waitpid(pid, &status, 0);
    if (got != sizeof e && WIFSIGNALED(status)) printf("%s signal %d\n", probes[i].name, WTERMSIG(status));
    else if (e == 0) printf("%s ok\n", probes[i].name);
    else if (e == -2) printf("%s not-reached\n", probes[i].name);
    else printf("%s errno %d\n", probes[i].name, e);
  }
  return 0;
}
