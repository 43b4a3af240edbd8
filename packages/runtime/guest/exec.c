/*
 * Processes of the agent: exec (fork, per-exec cgroup on microVMs, dropped capabilities, execve of an
 * argv array — never a shell), stdin/stdout/stderr relaying capped per stream, signals, and the
 * EXIT report (exit code, signal, OOM kill from the exec's cgroup). An EXIT whose port lost its
 * host is kept until a new connection attaches (T_ATTACH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "proto.h"

struct proc *procs[MAX_PROCS];
extern char **environ;

long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct proc *find_proc(uint32_t id) {
  for (int i = 0; i < MAX_PROCS; i++) if (procs[i] && procs[i]->id == id) return procs[i];
  return NULL;
}

void cg_path(char *buf, size_t n, uint32_t id, const char *file) {
  snprintf(buf, n, "/sys/fs/cgroup/w/p%u%s%s", id, file[0] ? "/" : "", file);
}


/*
 * Capabilities a workload keeps, even as root (Docker's default set minus NET_RAW and MKNOD):
 * the VM is the isolation boundary, but a sandbox behaves the same under every driver, so
 * mount, namespaces, raw sockets, devices, modules and the like fail here too.
 */
static const int KEEP_CAPS[] = {0 /* CHOWN */, 1 /* DAC_OVERRIDE */, 3 /* FOWNER */, 4 /* FSETID */,
                                5 /* KILL */, 6 /* SETGID */, 7 /* SETUID */, 8 /* SETPCAP */,
                                10 /* NET_BIND_SERVICE */, 18 /* SYS_CHROOT */, 29 /* AUDIT_WRITE */,
                                31 /* SETFCAP */};

/* Drops every other capability from the bounding set (exec then cannot regain it) and sets no_new_privs. */
static int drop_privileges(void) {
  for (int cap = 0; cap < 64; cap++) {
    int keep = 0;
    for (size_t k = 0; k < sizeof KEEP_CAPS / sizeof KEEP_CAPS[0]; k++) keep |= KEEP_CAPS[k] == cap;
    if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  }
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* The workload's seccomp program (tt-init --seccomp FILE), or none (the microVM: its own kernel). */
static struct sock_fprog g_filter;

int exec_load_filter(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static struct sock_filter prog[4096];
  ssize_t n = read(fd, prog, sizeof prog);
  close(fd);
  if (n <= 0 || n % (ssize_t)sizeof prog[0] != 0) { errno = EINVAL; return -1; }
  g_filter.len = (unsigned short)(n / (ssize_t)sizeof prog[0]);
  g_filter.filter = prog;
  return 0;
}

#ifndef SYS_close_range
#define SYS_close_range 436 /* x86_64 */
#endif

/* The idle main process of a sandbox whose template has none of its own (an image without `sleep`):
 * a copy of the agent that drops everything the agent holds and waits to be signalled. */
static void idle_forever(int errfd) {
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  close(errfd); /* closing the pipe without a word is the parent's "started" */
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) /* an older kernel or gVisor */
    for (int fd = 3; fd < 4096; fd++) close(fd);
  for (;;) pause();
}

/* The child side of exec: never returns. Reports a failure's errno through `errfd`. */
static void child_exec(struct rd *r, int in, int out, int err, int errfd, uint32_t id) {
  uint32_t uid = rd_u32(r), gid = rd_u32(r);
  uint32_t flags = rd_u32(r);
  rd_u64(r);
  char *cwd = rd_str(r);
  uint32_t argc = rd_u32(r);
  char **argv = calloc((size_t)argc + 1, sizeof *argv);
  for (uint32_t i = 0; argv && i < argc && !r->bad; i++) argv[i] = rd_str(r);
  uint32_t envc = rd_u32(r);
  char **envp = calloc((size_t)envc + 1, sizeof *envp);
  for (uint32_t i = 0; envp && i < envc && !r->bad; i++) envp[i] = rd_str(r);
  gid_t groups[64] = {gid};
  size_t ngroups = 1;
  if (flags & EXEC_GROUPS) {
    uint32_t k = rd_u32(r);
    for (uint32_t i = 0; i < k && !r->bad; i++) {
      uint32_t g = rd_u32(r);
      if (ngroups < sizeof groups / sizeof groups[0]) groups[ngroups++] = g;
    }
  }
  int e = EINVAL;
  int idle = argc == 0 && (flags & EXEC_IDLE) && (flags & EXEC_MAIN);
  if (r->bad || !argv || !envp || (argc == 0 && !idle)) goto fail;
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  signal(SIGPIPE, SIG_DFL);
  setsid();
  if (PLATFORM_EXEC_CGROUPS) {
    char p[96];
    cg_path(p, sizeof p, id, "cgroup.procs");
    write_text(p, "0");
  }
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) { e = errno; goto fail; }
  /* No core dumps: a crashing workload must not write its memory out (nor fill the layer). */
  struct rlimit nocore = {0, 0};
  if (setrlimit(RLIMIT_CORE, &nocore) != 0) { e = errno; goto fail; }
  /* Open files: 1024, as Docker's default (set here, not by the runtime: a runtime joining a
   * user namespace owned by the sandbox's uid may not set another process's limits). */
  struct rlimit files = {1024, 1024};
  struct rlimit have;
  if (getrlimit(RLIMIT_NOFILE, &have) == 0 && have.rlim_max < files.rlim_max) files.rlim_cur = files.rlim_max = have.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &files) != 0) { e = errno; goto fail; }
  if (drop_privileges() != 0) { e = errno; goto fail; }
  if (setgroups(ngroups, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0) { e = errno; goto fail; }
  /* Last, as the workload's own user, with no_new_privs set: the filter holds from its first instruction. */
  if (g_filter.len && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &g_filter, 0, 0) != 0) { e = errno; goto fail; }
  if (idle) idle_forever(errfd);
  if (chdir(cwd) != 0) { e = errno; goto fail; }
  environ = envp;
  execvp(argv[0], argv);
  e = errno;
fail:
  if (write(errfd, &e, sizeof e) < 0) { /* the parent then sees a plain exit 127 */ }
  _exit(127);
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int slot_free(void) {
  for (int i = 0; i < MAX_PROCS; i++) if (!procs[i]) return i;
  return -1;
}

void do_exec(uint32_t id, struct rd *r) {
  struct rd peek = *r;
  rd_u32(&peek); rd_u32(&peek);
  uint32_t flags = rd_u32(&peek);
  uint64_t limit = rd_u64(&peek);
  int slot = slot_free();
  if (find_proc(id) || slot < 0) { send_error(id, EBUSY, "exec"); return; }
  int pin[2], pout[2], perr[2], pfail[2];
  if (((flags & EXEC_STDIN) ? pipe2(pin, O_CLOEXEC) : ((pin[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)), (pin[1] = -1), pin[0] < 0 ? -1 : 0)) != 0 ||
      pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC) || pipe2(pfail, O_CLOEXEC)) {
    send_error(id, errno, "exec pipes");
    return;
  }
  char p[96];
  cg_path(p, sizeof p, id, "");
  if (PLATFORM_EXEC_CGROUPS) mkdir(p, 0755);
  pid_t pid = fork();
  if (pid == 0) child_exec(r, pin[0], pout[1], perr[1], pfail[1], id);
  int e = pid < 0 ? errno : 0;
  close(pin[0]); close(pout[1]); close(perr[1]); close(pfail[1]);
  if (pid > 0 && read(pfail[0], &e, sizeof e) == sizeof e) waitpid(pid, NULL, 0);
  else if (pid > 0) e = 0;
  close(pfail[0]);
  if (e != 0) {
    close(pout[0]); close(perr[0]);
    if (pin[1] >= 0) close(pin[1]);
    if (PLATFORM_EXEC_CGROUPS) rmdir(p);
    send_error(id, e, "exec");
    if (flags & EXEC_MAIN) platform_main_exited(127 << 8); /* no workload: the sandbox ends */
    return;
  }
  struct proc *pr = calloc(1, sizeof *pr);
  if (!pr) die("out of memory");
  *pr = (struct proc){.id = id, .pid = pid, .out = pout[0], .err = perr[0], .in = pin[1], .limit = limit, .owner = cur_port,
                      .main = (flags & EXEC_MAIN) != 0};
  set_nonblock(pr->out); set_nonblock(pr->err);
  if (pr->in >= 0) set_nonblock(pr->in);
  procs[slot] = pr;
  struct wr w = {.n = 0};
  wr_u32(&w, (uint32_t)pid);
  send_frame(T_STARTED, id, w.buf, w.n);
}

static void close_stdin(struct proc *pr) {
  if (pr->in >= 0) close(pr->in);
  pr->in = -1;
  free(pr->inbuf);
  pr->inbuf = NULL;
  pr->inlen = pr->inoff = 0;
}

void do_stdin(struct proc *pr, struct rd *r) {
  if (pr->in < 0) return;
  if (r->n == 0) { pr->inclose = 1; if (pr->inoff == pr->inlen) close_stdin(pr); return; }
  uint8_t *nb = realloc(pr->inbuf, pr->inlen + r->n);
  if (!nb) die("out of memory");
  memcpy(nb + pr->inlen, r->p, r->n);
  pr->inbuf = nb;
  pr->inlen += r->n;
}

void do_signal(uint32_t id, struct rd *r) {
  struct proc *pr = find_proc(id);
  int sig = (int)rd_u32(r);
  int tree = rd_u8(r);
  if (!pr || pr->exited) return;
  if (tree && sig == SIGKILL) platform_kill_tree(pr);
  if (kill(-pr->pid, sig) != 0) kill(pr->pid, sig);
}

void signal_main(int signo) {
  for (int i = 0; i < MAX_PROCS; i++) {
    struct proc *pr = procs[i];
    if (pr && pr->main && !pr->exited && kill(-pr->pid, signo) != 0) kill(pr->pid, signo);
  }
}

static void free_proc(int slot) {
  free(procs[slot]->exitmsg);
  free(procs[slot]);
  procs[slot] = NULL;
}

/* A new host connection takes over a process: its later frames (or its stored EXIT) come here. */
void do_attach(uint32_t id) {
  for (int i = 0; i < MAX_PROCS; i++) {
    struct proc *pr = procs[i];
    if (!pr || pr->id != id) continue;
    pr->owner = cur_port;
    send_ok(id);
    if (pr->reported) {
      send_frame(T_EXIT, id, pr->exitmsg->buf, pr->exitmsg->n);
      free_proc(i);
    }
    return;
  }
  send_error(id, ENOENT, "attach");
}

/* Forwards what a pipe has, up to the exec's limit plus one byte (so the host sees the overflow). */
void pump(struct proc *pr, int *fd, uint64_t *count, uint8_t type) {
  static uint8_t buf[65536];
  ssize_t got = read(*fd, buf, sizeof buf);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (got <= 0) { close(*fd); *fd = -1; return; }
  uint64_t room = pr->limit + 1 > *count ? pr->limit + 1 - *count : 0;
  size_t send = (uint64_t)got < room ? (size_t)got : (size_t)room;
  *count += (uint64_t)got;
  if (send) { use_port(pr->owner); send_frame(type, pr->id, buf, send); }
}

void feed_stdin(struct proc *pr) {
  ssize_t w = write(pr->in, pr->inbuf + pr->inoff, pr->inlen - pr->inoff);
  if (w < 0 && errno != EAGAIN && errno != EINTR) { close_stdin(pr); return; }
  if (w > 0) pr->inoff += (size_t)w;
  if (pr->inoff == pr->inlen) {
    pr->inoff = pr->inlen = 0;
    if (pr->inclose) close_stdin(pr);
  }
}

static int oom_killed(uint32_t id) {
  if (!PLATFORM_EXEC_CGROUPS) return 0; /* containers: the host reads the sandbox's cgroup */
  char p[96], line[128];
  long n = 0;
  cg_path(p, sizeof p, id, "memory.events");
  FILE *f = fopen(p, "r");
  while (f && fgets(line, sizeof line, f)) if (sscanf(line, "oom_kill %ld", &n) == 1) break;
  if (f) fclose(f);
  return n > 0;
}

void finish(int slot) {
  struct proc *pr = procs[slot];
  if (pr->out >= 0) close(pr->out);
  if (pr->err >= 0) close(pr->err);
  pr->out = pr->err = -1;
  close_stdin(pr);
  struct wr *w = calloc(1, sizeof *w);
  if (!w) die("out of memory");
  int st = pr->status;
  wr_u32(w, WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 128u + (uint32_t)WTERMSIG(st));
  wr_u32(w, WIFSIGNALED(st) ? (uint32_t)WTERMSIG(st) : 0);
  wr_u8(w, (uint8_t)(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && oom_killed(pr->id)));
  wr_u8(w, pr->outn > pr->limit);
  wr_u8(w, pr->errn > pr->limit);
  char p[96];
  cg_path(p, sizeof p, pr->id, "");
  if (PLATFORM_EXEC_CGROUPS) rmdir(p); /* busy while a background child lives on; it is then left to the VM's end */
  pr->exitmsg = w;
  pr->reported = 1;
  int main_proc = pr->main;
  use_port(pr->owner);
  struct pollfd pfd = {g_port, POLLOUT, 0};
  /* Nobody on its port (the host restarted): keep the EXIT for the adopter's T_ATTACH. */
  if (g_port < 0 || (poll(&pfd, 1, 0) >= 0 && (pfd.revents & (POLLHUP | POLLERR)))) {
    if (main_proc) platform_main_exited(st);
    return;
  }
  send_frame(T_EXIT, pr->id, w->buf, w->n);
  free_proc(slot);
  if (main_proc) platform_main_exited(st);
}

void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_PROCS; i++) {
      if (procs[i] && procs[i]->pid == pid) { procs[i]->exited = 1; procs[i]->status = st; procs[i]->exitms = now_ms(); }
    }
  }
}

