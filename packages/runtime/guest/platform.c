/*
 * The microVM platform of the agent: the guest is booted by init.c, the host speaks over
 * virtio serial ports (one fd per port, read and written), every exec gets its own cgroup under
 * /sys/fs/cgroup/w, and the host powers the VM off when the main process ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>
#include "proto.h"

int g_listen_fd = -1;
const int PLATFORM_SIGNALS[] = {0};
const int PLATFORM_EXEC_CGROUPS = 1;

void platform_boot(int argc, char **argv) {
  (void)argc;
  (void)argv;
  guest_boot(ports);
  for (int i = 0; i < NPORTS; i++) ports_w[i] = ports[i];
}

int platform_open_ports(void) {
  int n = open_ports(ports);
  for (int i = 0; i < NPORTS; i++) ports_w[i] = ports[i];
  return n;
}

/* A virtio port stays: a host that reconnects to it is served again. */
void platform_port_closed(int i) { (void)i; }
void platform_accept(void) {}
/* Only the host can open a virtio port (the nodes are unlinked once open). */
int platform_port_trusted(int i) { (void)i; return 1; }
void platform_signal(int signo) { (void)signo; }

void platform_kill_tree(struct proc *pr) {
  char p[96];
  cg_path(p, sizeof p, pr->id, "cgroup.kill");
  write_text(p, "1");
}

void platform_killall(void) { write_text("/sys/fs/cgroup/w/cgroup.kill", "1"); }

void platform_shutdown(void) {
  platform_killall();
  sync();
  reboot(RB_POWER_OFF);
}

void platform_stats(uint32_t id) {
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

/* With a host connected, it sees the EXIT and shuts the VM down (T_SHUTDOWN). With none, the VM
 * powers itself off only when its deadline ended the workload; otherwise it waits, keeping the
 * EXIT for a host that re-attaches (T_ATTACH). */
void platform_main_exited(int status) {
  (void)status;
  if (!g_deadline_fired) return;
  for (int i = 0; i < NPORTS; i++) {
    struct pollfd p = {ports[i], POLLOUT, 0};
    if (ports[i] >= 0 && poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP)) return;
  }
  platform_shutdown();
}
int platform_files_begin(void) { return 0; }
void platform_files_end(void) {}
/* File requests run as root in a microVM: the VM is the boundary. */
void platform_files_user(uint32_t uid, uint32_t gid) { (void)uid; (void)gid; }

int platform_attach(void) {
  fprintf(stderr, "attach is for container sandboxes; a microVM host reconnects to a serial port\n");
  return 2;
}
