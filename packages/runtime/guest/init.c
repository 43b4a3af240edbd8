/*
 * Boot of the guest, run once by the agent as PID 1: there is no udev, no shell and no other
 * init, so that a VM is ready as soon as the kernel is. Steps: load the virtio modules listed in
 * /lib/modules/order (the cloud kernel builds them as modules), and those in /lib/modules/net
 * when the VM has a network (`tt.ip=` on the command line), find the two disks by their
 * virtio serial (`root`: the template, read-only; `rw`: this sandbox's size-capped layer),
 * mount an overlay of both, move it to / and chroot into it, then set up the cgroup that holds
 * every workload (its memory and pids limits come from the kernel command line) and the
 * network (net.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "proto.h"

void load_modules(const char *list) {
  FILE *f = fopen(list, "r");
  if (!f) die(list);
  char name[256], path[300];
  while (fgets(name, sizeof name, f)) {
    name[strcspn(name, "\n")] = 0;
    if (!name[0]) continue;
    snprintf(path, sizeof path, "/lib/modules/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(path);
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) die(path);
    close(fd);
  }
  fclose(f);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Finds /dev/vdX whose virtio serial is `serial`, waiting for the device to appear (~5 s). */
void find_disk(const char *serial, char *dev, size_t n) {
  for (int tries = 0; tries < 2500; tries++) {
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (strncmp(e->d_name, "vd", 2) != 0) continue;
      char p[300], buf[64] = {0};
      snprintf(p, sizeof p, "/sys/block/%s/serial", e->d_name);
      int fd = open(p, O_RDONLY);
      if (fd < 0) continue;
      ssize_t got = read(fd, buf, sizeof buf - 1);
      close(fd);
      if (got > 0 && strncmp(buf, serial, strlen(serial)) == 0) {
        snprintf(dev, n, "/dev/%.32s", e->d_name);
        closedir(d);
        if (access(dev, F_OK) == 0) return;
        d = NULL;
        break;
      }
    }
    if (d) closedir(d);
    sleep_ms(2);
  }
  die(serial);
}

/* Opens the agent ports (agent0..N-1, /dev/vportNpM found through sysfs) that exist and are not
 * open yet; returns how many are open. */
int open_ports(int ports[NPORTS]) {
  int open_now = 0;
  DIR *d = opendir("/sys/class/virtio-ports");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char p[300], buf[64] = {0};
    snprintf(p, sizeof p, "/sys/class/virtio-ports/%.32s/name", e->d_name);
    int fd = open(p, O_RDONLY);
    if (fd < 0) continue;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    int n = buf[5] - '0';
    if (got < 6 || strncmp(buf, "agent", 5) != 0 || n < 0 || n >= NPORTS || ports[n] >= 0) continue;
    snprintf(p, sizeof p, "/dev/%.32s", e->d_name);
    /* Non-blocking: a write to a port whose host went away must not stall the others. */
    ports[n] = open(p, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    /* The node goes once open: a workload (even root, without mknod) cannot speak for the agent. */
    if (ports[n] >= 0) unlink(p);
  }
  if (d) closedir(d);
  for (int i = 0; i < NPORTS; i++) open_now += ports[i] >= 0;
  return open_now;
}

void must_mount(const char *src, const char *dst, const char *type, unsigned long fl, const char *data) {
  mkdir(dst, 0755);
  if (mount(src, dst, type, fl, data) != 0) die(dst);
}

int cmdline_value(const char *key, char *out, size_t n) {
  char buf[4096] = {0};
  int fd = open("/proc/cmdline", O_RDONLY);
  if (fd < 0) return 0;
  ssize_t got = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (got <= 0) return 0;
  size_t k = strlen(key);
  for (char *save, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    if (strncmp(t, key, k) == 0 && t[k] == '=') {
      snprintf(out, n, "%s", t + k + 1);
      return 1;
    }
  }
  return 0;
}

/* The value of `key=` on the kernel command line, or `def`. */
static long cmdline_long(const char *key, long def) {
  char v[32];
  return cmdline_value(key, v, sizeof v) ? atol(v) : def;
}

/* Workloads live in /sys/fs/cgroup/w (limits) and one child per exec (kill, OOM attribution). */
static void setup_cgroups(void) {
  long mem = cmdline_long("tt.mem", 0), pids = cmdline_long("tt.pids", 0);
  must_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  write_text("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids");
  mkdir("/sys/fs/cgroup/w", 0755);
  write_text("/sys/fs/cgroup/w/cgroup.subtree_control", "+memory +pids");
  char v[32];
  if (mem > 0) {
    snprintf(v, sizeof v, "%ld", mem * 1024 * 1024);
    write_text("/sys/fs/cgroup/w/memory.max", v);
    write_text("/sys/fs/cgroup/w/memory.swap.max", "0");
  }
  if (pids > 0) {
    snprintf(v, sizeof v, "%ld", pids);
    write_text("/sys/fs/cgroup/w/pids.max", v);
  }
}

void guest_boot(int ports[NPORTS]) {
  must_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  must_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  must_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  load_modules("/lib/modules/order");
  /* Only a VM with a network loads virtio-net: under emulation every module costs boot time. */
  char ip[64];
  if (cmdline_value("tt.ip", ip, sizeof ip)) load_modules("/lib/modules/net");
  char lower[64], upper[64];
  find_disk("root", lower, sizeof lower);
  find_disk("rw", upper, sizeof upper);
  must_mount(lower, "/lower", "ext4", MS_RDONLY, "");
  /* No lazy inode-table zeroing: it would compete with the workload for the vCPU, and this layer dies with the VM. */
  must_mount(upper, "/rw", "ext4", MS_NOATIME, "noinit_itable");
  mkdir("/rw/upper", 0755);
  mkdir("/rw/work", 0755);
  must_mount("overlay", "/root", "overlay", 0, "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work");
  /* The new root gets its own /proc, /sys, /dev; /tmp and the rest come from the template. */
  must_mount("devtmpfs", "/root/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  must_mount("devpts", "/root/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666");
  must_mount("shm", "/root/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  /* hidepid: an unprivileged workload sees its own processes, not the agent or kernel threads. */
  must_mount("proc", "/root/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible");
  must_mount("sysfs", "/root/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  mkdir("/root/tmp", 01777);
  if (chdir("/root") != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 || chroot(".") != 0 || chdir("/") != 0) {
    die("switch root");
  }
  setup_cgroups();
  net_up();
  sethostname("sandbox", 7);
  /* Only port 0 is needed to start serving; the others are picked up by the agent's loop as they appear. */
  for (int i = 0; i < NPORTS; i++) ports[i] = -1;
  for (int tries = 0; ports[0] < 0 && tries < 5000; tries++) {
    if (open_ports(ports) == 0 || ports[0] < 0) sleep_ms(1);
  }
  if (ports[0] < 0) die("no agent port");
}
