/*
 * Tartarus in-sandbox agent, PID 1 of every sandbox (microVM: boots the guest, platform.c and
 * init.c; container and gVisor: container.c). It serves the host over its ports: starts processes with execve() from an argv array (never a
 * shell), streams their stdin/stdout/stderr, reports exit codes and OOM kills, signals them,
 * and answers file requests (files.c); processes live in exec.c. Single-threaded: one poll()
 * loop over the ports, every process's pipes and a signalfd for SIGCHLD.
 *
 * The workload shares this kernel, so it may tamper with the agent; the host treats every
 * frame from here as untrusted (size-capped, ids checked) and enforces time and memory itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "proto.h"

int ports[NPORTS];
int ports_w[NPORTS];
static uint8_t *rx[NPORTS];
int cur_port; /* index of the port whose frame is being handled */


/* Points replies at port `i`. */
void use_port(int i) {
  cur_port = i;
  g_port = ports_w[i];
}

int g_deadline_fired;

/* The deadline of the main process: SIGTERM at `term_at`, SIGKILL to the sandbox at `kill_at`. */
static long term_at, kill_at, grace_ms;

void do_deadline(uint32_t id, struct rd *r) {
  uint64_t in = rd_u64(r), grace = rd_u64(r);
  if (r->bad) { send_error(id, EINVAL, "deadline"); return; }
  term_at = in ? now_ms() + (long)in : 0;
  kill_at = 0;
  grace_ms = (long)grace;
  send_ok(id);
}

/* ms until the next deadline step (-1: none). */
long deadline_timeout(void) {
  long next = kill_at ? kill_at : term_at;
  if (!next) return -1;
  long left = next - now_ms();
  return left < 0 ? 0 : left;
}

void deadline_check(void) {
  long now = now_ms();
  if (term_at && now >= term_at) {
    term_at = 0;
    g_deadline_fired = 1;
    kill_at = now + grace_ms;
    signal_main(SIGTERM);
  } else if (kill_at && now >= kill_at) {
    kill_at = 0;
    for (int i = 0; i < MAX_PROCS; i++) if (procs[i] && procs[i]->main && !procs[i]->exited) platform_kill_tree(procs[i]);
  }
}

/* A graceful termination (T_TERMINATE): every workload process had SIGTERM; once they are all gone,
 * or at `end_at`, everything left gets SIGKILL. Until then the main's exit is held back, so the
 * sandbox ends once its whole workload has gone (not when an idle main exits at the signal).
 * Processes of this binary (an idle main, the host's `attach` channels) are not the workload. */
static long end_at;
/* Set by the first T_TERMINATE: the main's exit also waits for the other processes' last output. */
static int terminated;
/* This binary's process name (`comm`): an idle main and the host's relays carry it too (a
 * workload that takes the name only loses its grace: it is killed with the rest at the end). */
static char self_comm[32];

int terminating(void) { return end_at != 0; }

/* The `comm` field of a /proc/PID/stat line into `out` (empty when malformed). */
static void stat_comm(const char *line, char *out, size_t size) {
  const char *a = strchr(line, '('), *b = strrchr(line, ')');
  size_t n = a && b && b > a ? (size_t)(b - a - 1) : 0;
  if (n >= size) n = size - 1;
  memcpy(out, a ? a + 1 : "", n);
  out[n] = 0;
}

/* Signals every workload process (none of this binary, nor the kernel's threads in a microVM);
 * signal 0 stops at the first one found and leaves errno 0, or ESRCH when there is none. */
static void signal_others(int sig) {
  DIR *d = opendir("/proc");
  if (!d) { errno = sig ? 0 : ESRCH; if (sig) kill(-1, sig); return; }
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid == getpid()) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    char state = 0, comm[32];
    long ppid = 0, skip = 0;
    unsigned long flags = 0;
    stat_comm(buf, comm, sizeof comm);
    /* Fields after the name: state ppid pgrp session tty_nr tpgid flags. Parent 0: a process
     * entered from outside (the host's); PF_KTHREAD: the kernel's own threads (a microVM). */
    if (!rp || sscanf(rp + 1, " %c %ld %ld %ld %ld %ld %lu", &state, &ppid, &skip, &skip, &skip, &skip, &flags) != 7) continue;
    if (ppid == 0 || (flags & 0x00200000UL) || state == 'Z' || state == 'X' || strcmp(comm, self_comm) == 0) continue;
    if (sig) {
      kill((pid_t)pid, sig);
      kill((pid_t)pid, SIGCONT); /* a stopped process takes its SIGTERM now, not at the SIGKILL */
    }
    else { closedir(d); errno = 0; return; }
  }
  closedir(d);
  errno = ESRCH;
}

/* Whether a process other than the main has not reported its end yet (its last output may be in its pipes). */
static int others_unreported(void) {
  for (int j = 0; j < MAX_PROCS; j++)
    if (procs[j] && !procs[j]->main && !procs[j]->reported) return 1;
  return 0;
}

/* Whether a workload process is left. */
static int others_alive(void) {
  signal_others(0);
  return errno == 0;
}

static void do_terminate(uint32_t id, struct rd *r) {
  uint64_t grace = rd_u64(r);
  if (r->bad) { send_error(id, EINVAL, "terminate"); return; }
  char buf[512] = "";
  FILE *f = fopen("/proc/self/stat", "r");
  if (f) { buf[fread(buf, 1, sizeof buf - 1, f)] = 0; fclose(f); }
  stat_comm(buf, self_comm, sizeof self_comm);
  end_at = now_ms() + (long)grace;
  terminated = 1;
  signal_others(SIGTERM);
  send_ok(id);
}

/* The host's time (T_CLOCK): a VM restored from a saved state wakes with the clock it had then. */
static void do_clock(uint32_t id, struct rd *r) {
  uint64_t ms = rd_u64(r);
  if (r->bad) { send_error(id, EINVAL, "clock"); return; }
  struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
  if (clock_settime(CLOCK_REALTIME, &ts) != 0) { send_error(id, errno, "clock_settime"); return; }
  send_ok(id);
}

static void terminate_check(void) {
  if (!end_at || (now_ms() < end_at && others_alive())) return;
  end_at = 0;
  platform_killall();
}

/* The secret an attaching host must present (set by the host on a trusted port), and which
 * ports have presented it. */
static uint8_t secret[64];
static size_t secret_len;
static int port_auth[NPORTS];

int port_is_authenticated(int i) { return port_auth[i]; }

/* Forward declarations of the port state below. */
static int port_up[NPORTS];
static size_t rxn[NPORTS];

void drop_port(int i) {
  port_up[i] = 0;
  rxn[i] = 0;
  port_auth[i] = 0;
  platform_port_closed(i);
}

/* T_AUTH; returns 0 when the port must be dropped (a wrong secret). */
static int do_auth(uint32_t id, struct rd *r) {
  if (platform_port_trusted(cur_port)) {
    if (secret_len == 0 && r->n > 0 && r->n <= sizeof secret) { memcpy(secret, r->p, r->n); secret_len = r->n; }
    send_ok(id);
    return 1;
  }
  int ok = secret_len > 0 && r->n == secret_len;
  uint8_t diff = 0;
  for (size_t i = 0; ok && i < secret_len; i++) diff |= (uint8_t)(secret[i] ^ r->p[i]);
  if (!ok || diff) return 0;
  port_auth[cur_port] = 1;
  send_ok(id);
  return 1;
}

static void handle_frame(uint8_t type, uint32_t id, struct rd *r) {
  struct proc *pr;
  switch (type) {
    /* A sandbox being terminated starts nothing new: its end would wait for it. */
    case T_EXEC: if (terminated) send_error(id, ESHUTDOWN, "the sandbox is being terminated"); else do_exec(id, r); break;
    case T_STDIN: if ((pr = find_proc(id))) do_stdin(pr, r); break;
    case T_SIGNAL: do_signal(id, r); break;
    case T_FREAD: case T_FWRITE: case T_FLIST: case T_FREMOVE: file_request(type, id, r); break;
    case T_STATS: platform_stats(id); break;
    case T_KILLALL: platform_killall(); send_ok(id); break;
    case T_PING: send_ok(id); break;
    case T_ATTACH: do_attach(id); break;
    case T_DEADLINE: do_deadline(id, r); break;
    case T_TERMINATE: do_terminate(id, r); break;
    case T_CLOCK: do_clock(id, r); break;
    case T_USER: {
      uint32_t uid = rd_u32(r), gid = rd_u32(r);
      if (r->bad) { send_error(id, EINVAL, "user"); break; }
      platform_files_user(uid, gid);
      send_ok(id);
      break;
    }
    case T_SHUTDOWN: platform_shutdown(); break;
    default: send_error(id, ENOSYS, "unknown request");
  }
}

/* Reads what the port has and handles every complete frame. Returns 0 when the host is gone. */
static int read_port(int i) {
  use_port(i);
  size_t cap = TT_HEADER + TT_MAX_PAYLOAD;
  if (!rx[i] && !(rx[i] = malloc(cap))) die("out of memory");
  ssize_t got = read(ports[i], rx[i] + rxn[i], cap - rxn[i]);
  if (got <= 0) return got < 0 && (errno == EINTR || errno == EAGAIN);
  rxn[i] += (size_t)got;
  size_t off = 0;
  while (rxn[i] - off >= TT_HEADER) {
    const uint8_t *h = rx[i] + off;
    uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (len > TT_MAX_PAYLOAD) { rxn[i] = 0; return 0; } /* a broken host: drop what it sent */
    if (rxn[i] - off < TT_HEADER + len) break;
    uint32_t id = (uint32_t)h[5] | (uint32_t)h[6] << 8 | (uint32_t)h[7] << 16 | (uint32_t)h[8] << 24;
    struct rd r = {h + TT_HEADER, len, 0};
    if (h[4] == T_AUTH) {
      if (!do_auth(id, &r)) { rxn[i] = 0; return 0; } /* a wrong secret: drop the connection */
    } else if (platform_port_trusted(i) || port_auth[i]) {
      handle_frame(h[4], id, &r);
    } else {
      send_error(id, EACCES, "present the secret first (T_AUTH)");
    }
    off += TT_HEADER + len;
  }
  memmove(rx[i], rx[i] + off, rxn[i] - off);
  rxn[i] -= off;
  return 1;
}

/* The smaller of two poll() timeouts, where -1 is "none". */
static int sooner(int a, int b) { return a < 0 || b < a ? b : a; }

/* One poll() round over the signalfd, the listener, the ports and every process's pipes. */
static void loop_once(int sfd) {
  struct pollfd fds[2 + NPORTS + MAX_PROCS * 3];
  struct { int slot; int which; } who[2 + NPORTS + MAX_PROCS * 3];
  int n = 0;
  int timeout = (int)deadline_timeout();
  fds[n] = (struct pollfd){sfd, POLLIN, 0}; who[n++].slot = -1;
  fds[n] = (struct pollfd){g_listen_fd, POLLIN, 0}; who[n++].slot = -1;
  static int all_open;
  /* spare ports still appearing (microVM), polled every 100 ms */
  if (!all_open && !(all_open = platform_open_ports() == NPORTS) && g_listen_fd < 0) timeout = sooner(timeout, 100);
  for (int i = 0; i < NPORTS; i++) {
    /* A port without a host reports HUP at once: look at it again every 100 ms instead of spinning. */
    fds[n] = (struct pollfd){port_up[i] ? ports[i] : -1, POLLIN, 0};
    if (!port_up[i] && ports[i] >= 0) { timeout = sooner(timeout, 100); port_up[i] = 1; }
    who[n++].slot = -1;
  }
  for (int i = 0; i < MAX_PROCS; i++) {
    struct proc *pr = procs[i];
    if (!pr || pr->reported) continue;
    /* A terminating sandbox's main reports its exit once the rest of the workload has gone; its
     * pipes are read meanwhile, and their grace counts from the end of the hold. */
    int held = pr->exited && pr->main && (end_at || (terminated && others_unreported()));
    if (held) pr->exitms = now_ms();
    else if (pr->exited && ((pr->out < 0 && pr->err < 0) || now_ms() - pr->exitms >= PIPE_GRACE_MS)) { finish(i); continue; }
    if (pr->exited) timeout = sooner(timeout, held ? 20 : PIPE_GRACE_MS);
    int fdv[3] = {pr->out, pr->err, pr->in};
    for (int k = 0; k < 3; k++) {
      if (fdv[k] < 0 || (k == 2 && pr->inoff == pr->inlen)) continue;
      fds[n] = (struct pollfd){fdv[k], (short)(k == 2 ? POLLOUT : POLLIN), 0};
      who[n].slot = i; who[n++].which = k;
    }
  }
  if (end_at) timeout = sooner(timeout, 20);
  if (poll(fds, (nfds_t)n, timeout) < 0) return;
  deadline_check();
  terminate_check();
  if (fds[0].revents & POLLIN) {
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) if (si.ssi_signo != SIGCHLD) platform_signal((int)si.ssi_signo);
    reap();
  }
  if (fds[1].revents & POLLIN) { platform_accept(); all_open = 0; }
  for (int i = 0; i < NPORTS; i++) {
    short ev = fds[2 + i].revents;
    int gone = 0;
    if (ev & POLLIN) gone = !read_port(i);
    else if (ev & (POLLHUP | POLLERR)) gone = 1;
    if (gone) { drop_port(i); all_open = 0; }
  }
  for (int j = 2 + NPORTS; j < n; j++) {
    struct proc *pr = procs[who[j].slot];
    if (!pr || !fds[j].revents) continue;
    if (who[j].which == 0 && pr->out == fds[j].fd) pump(pr, &pr->out, &pr->outn, T_STDOUT);
    else if (who[j].which == 1 && pr->err == fds[j].fd) pump(pr, &pr->err, &pr->errn, T_STDERR);
    else if (who[j].which == 2 && pr->in == fds[j].fd) feed_stdin(pr);
  }
}

int main(int argc, char **argv) {
  /* Not dumpable, so not traceable: the agent runs without the workload's seccomp program, and a
   * root workload must not reach it through /proc/1/mem (or /proc/<attach>/mem) instead of ptrace.
   * Its workloads are dumpable again after their exec (a fresh image under a plain user). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (argc > 1 && strcmp(argv[1], "attach") == 0) return platform_attach();
  if (getpid() != 1) {
    fprintf(stderr, "the Tartarus agent runs as PID 1 of a sandbox (or as `attach` inside one)\n");
    return 2;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (const int *s = PLATFORM_SIGNALS; *s; s++) sigaddset(&mask, *s);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");
  platform_boot(argc, argv);
  for (int i = 0; i < NPORTS; i++) port_up[i] = ports[i] >= 0;
  /* The host pings on connect; READY on port 0 only saves it a round trip at boot. */
  use_port(0);
  char ready[64] = "1 ", up[32] = {0};
  int ufd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
  if (ufd >= 0 && read(ufd, up, sizeof up - 1) > 0) strncat(ready, up, sizeof ready - 3);
  if (ufd >= 0) close(ufd);
  send_frame(T_READY, 0, ready, strlen(ready)); /* version, then the guest's uptime (boot diagnostics) */
  for (;;) loop_once(sfd);
}
