/*
 * The benchmark's baseline, not part of a sandbox: an init that does the least a VM must do to
 * run one command from a template (load the virtio modules, mount the template disk read-only,
 * run the command named on the kernel command line as `tt.bare=<path>` with argument `hi`,
 * output on the serial console) and powers off. bench/src/microvm.ts boots it with the same
 * kernel and modules as the driver, as "bare QEMU".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
#include "proto.h"

int main(void) {
  must_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  must_mount("proc", "/proc", "proc", 0, "");
  must_mount("sysfs", "/sys", "sysfs", 0, "");
  load_modules("/lib/modules/order");
  char disk[64], cmd[256] = "/bin/echo", line[4096] = {0};
  find_disk("root", disk, sizeof disk);
  must_mount(disk, "/lower", "ext4", MS_RDONLY, "");
  int fd = open("/proc/cmdline", O_RDONLY);
  if (fd >= 0 && read(fd, line, sizeof line - 1) > 0) {
    char *t = strstr(line, "tt.bare=");
    if (t) sscanf(t + 8, "%255s", cmd);
  }
  if (chroot("/lower") != 0 || chdir("/") != 0) die("chroot");
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {cmd, "hi", NULL}, *envp[] = {"PATH=/usr/bin:/bin", NULL};
    execve(cmd, argv, envp);
    _exit(127);
  }
  waitpid(pid, NULL, 0);
  reboot(RB_POWER_OFF);
  return 0;
}
