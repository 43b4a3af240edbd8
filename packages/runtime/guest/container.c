/*
 * The container platform of the agent (runc and runsc alike). tt-init is the container's PID 1:
 * the runtime starts it with the host's pipes as stdin (frames in) and stdout (frames out);
 * stderr carries its own diagnostics. The host starts the workload with an EXEC flagged
 * EXEC_MAIN; when it ends, tt-init kills what is left and exits with its status, so the sandbox
 * ends as soon as the workload has gone. Signals the runtime sends to PID 1 go to the workload.
 *
 * A host that restarts reaches a running init again with `tt-init attach` (run by `runc exec` /
 * `runsc exec`): it relays its stdio to a unix socket in the abstract namespace, which the init
 * accepts only from root in the sandbox (SO_PEERCRED), and on which it serves nothing until the
 * secret the host gave over the inherited pipes is presented (T_AUTH): a workload, even root,
 * cannot speak for the host (e.g. cancel the deadline).
 *
 * Options: `--files-user UID:GID`: file requests run as that user (the sandbox's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proto.h"

#define LISTEN_NAME "tartarus-init"

int g_listen_fd = -1;
const int PLATFORM_SIGNALS[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, 0};
const int PLATFORM_EXEC_CGROUPS = 0;
static unsigned files_uid, files_gid;

static socklen_t listen_addr(struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  memcpy(a->sun_path + 1, LISTEN_NAME, strlen(LISTEN_NAME)); /* abstract: sun_path[0] is NUL */
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(LISTEN_NAME));
}

/* Moves `fd` above the standard descriptors (close-on-exec) and puts /dev/null in its place. */
static int move_high(int fd, int null) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0 || dup2(null, fd) < 0) die("moving the host channel");
  fcntl(high, F_SETFL, fcntl(high, F_GETFL) | O_NONBLOCK);
  return high;
}

void platform_boot(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--files-user") == 0 && sscanf(argv[i + 1], "%u:%u", &files_uid, &files_gid) == 2) continue;
    if (strcmp(argv[i], "--seccomp") == 0) {
      /* Fail closed: a sandbox whose filter cannot be read never starts a workload. */
      if (exec_load_filter(argv[i + 1]) != 0) { fprintf(stderr, "tt-init: seccomp program %s: %s\n", argv[i + 1], strerror(errno)); _exit(2); }
      continue;
    }
    fprintf(stderr, "tt-init: unknown option %s\n", argv[i]);
    _exit(2);
  }
  for (int i = 0; i < NPORTS; i++) ports[i] = ports_w[i] = -1;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) die("/dev/null");
  ports[0] = move_high(0, null);
  ports_w[0] = move_high(1, null);
  close(null);
  struct sockaddr_un a;
  socklen_t len = listen_addr(&a);
  g_listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (g_listen_fd < 0 || bind(g_listen_fd, (struct sockaddr *)&a, len) != 0 || listen(g_listen_fd, 4) != 0) {
    /* Without it only re-attaching after a host restart is lost: say so and serve on. */
    fprintf(stderr, "tt-init: no attach socket: %s\n", strerror(errno));
    if (g_listen_fd >= 0) close(g_listen_fd);
    g_listen_fd = -1;
  }
}

int platform_open_ports(void) {
  int n = 0;
  for (int i = 0; i < NPORTS; i++) n += ports[i] >= 0;
  return n;
}

/* A closed connection frees its slot for the next attach; the inherited pipes never come back. */
void platform_port_closed(int i) {
  if (ports[i] >= 0) close(ports[i]);
  if (ports_w[i] >= 0 && ports_w[i] != ports[i]) close(ports_w[i]);
  ports[i] = ports_w[i] = -1;
}

/* Port 0 is the inherited pipes; an accepted connection must present the secret first. */
int platform_port_trusted(int i) { return i == 0; }

void platform_accept(void) {
  int fd = accept4(g_listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
    close(fd);
    return;
  }
  int slot = -1;
  for (int i = 1; i < NPORTS && slot < 0; i++) if (ports[i] < 0) slot = i;
  /* All taken: one that never presented the secret (a squatter) makes way for the newcomer. */
  for (int i = 1; i < NPORTS && slot < 0; i++) if (!port_is_authenticated(i)) { drop_port(i); slot = i; }
  if (slot < 0) {
    close(fd);
    return;
  }
  ports[slot] = ports_w[slot] = fd;
}

void platform_signal(int signo) { signal_main(signo); }

/* The main process's tree is the sandbox: everything but this init goes. */
void platform_kill_tree(struct proc *pr) {
  if (pr->main) kill(-1, SIGKILL);
  else kill(-pr->pid, SIGKILL);
}

void platform_killall(void) { kill(-1, SIGKILL); }

void platform_shutdown(void) {
  kill(-1, SIGKILL);
  _exit(137);
}

void platform_stats(uint32_t id) { send_error(id, ENOSYS, "stats: the host reads the sandbox's cgroup"); }

/* Lets an attached host's relay (`tt-init attach`, a process in this sandbox) forward what was
 * sent to it before everything is killed: it exits at the end of its socket, or we go on after 1 s. */
static void drain_attached(void) {
  for (int i = 1; i < NPORTS; i++) {
    if (ports[i] < 0) continue;
    shutdown(ports[i], SHUT_WR);
    long until = now_ms() + 1000;
    char buf[4096];
    for (;;) {
      long left = until - now_ms();
      struct pollfd p = {ports[i], POLLIN, 0};
      if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
      if (read(ports[i], buf, sizeof buf) <= 0) break; /* the relay closed: all was forwarded */
    }
  }
}

void platform_main_exited(int status) {
  drain_attached();
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The effective ids, not setfsuid (which gVisor does not honour): the real and saved uid stay 0,
 * so the init goes back to root after the request, and a workload can never signal it. */
int platform_files_begin(void) {
  if (setresgid((gid_t)-1, files_gid, (gid_t)-1) != 0 || setresuid((uid_t)-1, files_uid, (uid_t)-1) != 0) {
    int e = errno;
    platform_files_end();
    return e ? e : EPERM;
  }
  return 0;
}

void platform_files_user(uint32_t uid, uint32_t gid) {
  files_uid = uid;
  files_gid = gid;
}

void platform_files_end(void) {
  if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0 || setresgid((gid_t)-1, 0, (gid_t)-1) != 0) die("back to root");
}

/* Copies `from` to `to` until the end of `from` or an error (blocking, one direction). */
static void relay(int from, int to) {
  char buf[65536];
  for (;;) {
    ssize_t got = read(from, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    for (ssize_t off = 0; off < got;) {
      ssize_t w = write(to, buf + off, (size_t)(got - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      off += w;
    }
  }
}

/* Each direction in its own process: a blocked write one way (the init sending output while the
 * host sends a large file) never stops the other way from draining, so neither end can deadlock. */
int platform_attach(void) {
  struct sockaddr_un a;
  socklen_t len = listen_addr(&a);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&a, len) != 0) {
    fprintf(stderr, "tt-init attach: cannot reach the sandbox's init: %s\n", strerror(errno));
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  pid_t out = fork();
  if (out < 0) return 1;
  if (out == 0) {
    relay(s, 1); /* init -> host */
    /* The init closed (its sandbox ends): the other direction goes too, so the init sees this
     * connection closed at once and the host sees the end of its stdout. */
    kill(getppid(), SIGKILL);
    _exit(0);
  }
  relay(0, s); /* host -> init; at its end the init sees the end of the connection */
  shutdown(s, SHUT_WR);
  int st;
  while (waitpid(out, &st, 0) < 0 && errno == EINTR) {}
  return 0;
}
