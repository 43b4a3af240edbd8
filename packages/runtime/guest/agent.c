/*
 * Tartarus guest agent, PID 1 of every microVM. It boots the guest (init.c), then serves the
 * host over one virtio serial port: starts processes with execve() from an argv array (never a
 * shell), streams their stdin/stdout/stderr, reports exit codes and OOM kills, signals them,
 * and answers file requests (files.c); processes live in exec.c. Single-threaded: one poll()
 * loop over the ports, every process's pipes and a signalfd for SIGCHLD.
 *
 * The workload shares this kernel, so it may tamper with the agent; the host treats every
 * frame from here as untrusted (size-capped, ids checked) and enforces time and memory itself.
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
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "proto.h"

int ports[NPORTS];
static int port_up[NPORTS];
static uint8_t *rx[NPORTS];
static size_t rxn[NPORTS];
int cur_port; /* index of the port whose frame is being handled */


/* Points replies at port `i`. */
void use_port(int i) {
  cur_port = i;
  g_port = ports[i];
}

static void do_stats(uint32_t id) {
  char buf[4096] = {0};
  uint64_t cpu = 0, mem = 0, pids = 0;
  FILE *f = fopen("/sys/fs/cgroup/w/cpu.stat", "r");
  while (f && fgets(buf, sizeof buf, f)) if (sscanf(buf, "usage_usec %llu", (unsigned long long *)&cpu) == 1) break;
  if (f) fclose(f);
  f = fopen("/sys/fs/cgroup/w/memory.current", "r");
  if (f && fscanf(f, "%llu", (unsigned long long *)&mem) != 1) mem = 0;
  if (f) fclose(f);
  f = fopen("/sys/fs/cgroup/w/pids.current", "r");
  if (f && fscanf(f, "%llu", (unsigned long long *)&pids) != 1) pids = 0;
  if (f) fclose(f);
  struct wr w = {.n = 0};
  wr_u64(&w, cpu * 1000);
  wr_u64(&w, mem);
  wr_u32(&w, (uint32_t)pids);
  send_frame(T_OK, id, w.buf, w.n);
}

static void handle_frame(uint8_t type, uint32_t id, struct rd *r) {
  struct proc *pr;
  switch (type) {
    case T_EXEC: do_exec(id, r); break;
    case T_STDIN: if ((pr = find_proc(id))) do_stdin(pr, r); break;
    case T_SIGNAL: do_signal(id, r); break;
    case T_FREAD: case T_FWRITE: case T_FLIST: case T_FREMOVE: file_request(type, id, r); break;
    case T_STATS: do_stats(id); break;
    case T_KILLALL: write_text("/sys/fs/cgroup/w/cgroup.kill", "1"); send_ok(id); break;
    case T_PING: send_ok(id); break;
    case T_ATTACH: do_attach(id); break;
    case T_SHUTDOWN:
      write_text("/sys/fs/cgroup/w/cgroup.kill", "1");
      sync();
      reboot(RB_POWER_OFF);
      break;
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
    handle_frame(h[4], id, &r);
    off += TT_HEADER + len;
  }
  memmove(rx[i], rx[i] + off, rxn[i] - off);
  rxn[i] -= off;
  return 1;
}

/* One poll() round over the ports, the signalfd and every process's pipes. */
static void loop_once(int sfd) {
  struct pollfd fds[1 + NPORTS + MAX_PROCS * 3];
  struct { int slot; int which; } who[1 + NPORTS + MAX_PROCS * 3];
  int n = 0, timeout = -1;
  fds[n] = (struct pollfd){sfd, POLLIN, 0}; who[n++].slot = -1;
  static int all_open;
  if (!all_open && !(all_open = open_ports(ports) == NPORTS)) timeout = 100; /* spare ports still appearing */
  for (int i = 0; i < NPORTS; i++) {
    /* A port without a host reports HUP at once: look at it again every 100 ms instead of spinning. */
    fds[n] = (struct pollfd){port_up[i] ? ports[i] : -1, POLLIN, 0};
    if (!port_up[i] && ports[i] >= 0) { timeout = 100; port_up[i] = 1; }
    who[n++].slot = -1;
  }
  for (int i = 0; i < MAX_PROCS; i++) {
    struct proc *pr = procs[i];
    if (!pr || pr->reported) continue;
    if (pr->exited && ((pr->out < 0 && pr->err < 0) || now_ms() - pr->exitms >= PIPE_GRACE_MS)) { finish(i); continue; }
    if (pr->exited && (timeout < 0 || timeout > PIPE_GRACE_MS)) timeout = PIPE_GRACE_MS;
    int fdv[3] = {pr->out, pr->err, pr->in};
    for (int k = 0; k < 3; k++) {
      if (fdv[k] < 0 || (k == 2 && pr->inoff == pr->inlen)) continue;
      fds[n] = (struct pollfd){fdv[k], (short)(k == 2 ? POLLOUT : POLLIN), 0};
      who[n].slot = i; who[n++].which = k;
    }
  }
  if (poll(fds, (nfds_t)n, timeout) < 0) return;
  if (fds[0].revents & POLLIN) {
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) {}
    reap();
  }
  for (int i = 0; i < NPORTS; i++) {
    short ev = fds[1 + i].revents;
    if (ev & POLLIN) { if (!read_port(i)) port_up[i] = 0; }
    else if (ev & (POLLHUP | POLLERR)) { port_up[i] = 0; rxn[i] = 0; }
  }
  for (int j = 1 + NPORTS; j < n; j++) {
    struct proc *pr = procs[who[j].slot];
    if (!pr || !fds[j].revents) continue;
    if (who[j].which == 0 && pr->out == fds[j].fd) pump(pr, &pr->out, &pr->outn, T_STDOUT);
    else if (who[j].which == 1 && pr->err == fds[j].fd) pump(pr, &pr->err, &pr->errn, T_STDERR);
    else if (who[j].which == 2 && pr->in == fds[j].fd) feed_stdin(pr);
  }
}

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "tartarus-guest runs as PID 1 of a Tartarus microVM\n");
    return 2;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) die("signalfd");
  guest_boot(ports);
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
