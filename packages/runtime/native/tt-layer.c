/*
 * tt-layer: gives one sandbox its writable layer in a private mount namespace, then execs the
 * OCI runtime in it.
 *
 *   tt-layer run DIR LOWER SIZE_MIB [--cgroup CGDIR]... -- RUNTIME ARGS...
 *   tt-layer stdin
 *
 * `stdin` reads those arguments from stdin first (u32 little-endian length, then the arguments,
 * each NUL-terminated; nothing past them is read, so the rest of stdin is the runtime's): the
 * host starts it ahead of need, so that spawning from its large process is off the hot path.
 *
 * With --cgroup, it first moves itself into each cgroup directory CGDIR (cgroup v1: one per
 * hierarchy), so that the runtime and everything it starts are accounted and limited there
 * (used for runsc, which runs with --ignore-cgroups: see drivers/gvisor/argv.ts).
 *
 * It unshares a mount namespace (private, so nothing propagates back to the host), mounts a
 * tmpfs of SIZE_MIB at DIR/layer holding upper/, work/ and tmp/, mounts overlayfs of LOWER (read-only)
 * + upper at DIR/rootfs, and execs RUNTIME (runc/runsc run ...), which keeps its pid and stdio.
 *
 * Why a namespace instead of host mounts: the mounts live exactly as long as the sandbox's
 * processes do. When the runtime and the container exit, the kernel drops the namespace and
 * with it the overlay and everything the sandbox wrote: no unmount step on the hot path, and no
 * mount is ever left on the host, even if the owning process crashes.
 *
 * Exit status: the runtime's, or 125 when the layer could not be set up (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int die(const char *what, const char *path) {
  fprintf(stderr, "tt-layer: %s %s: %s\n", what, path, strerror(errno));
  return 125;
}

static int join(char *out, size_t n, const char *dir, const char *leaf) {
  return snprintf(out, n, "%s/%s", dir, leaf) >= (int)n ? -1 : 0;
}

static int setup(const char *dir, const char *lower, const char *size_mib) {
  char layer[4096], root[4096], up[4096], work[4096], tmp[4096], data[12800];
  char *end = NULL;
  long size = strtol(size_mib, &end, 10);
  if (size <= 0 || *end) return errno = EINVAL, die("bad size", size_mib);
  /* overlay options are comma separated: a path holding one would be misparsed */
  if (strpbrk(lower, ",:") || strpbrk(dir, ",:")) return errno = EINVAL, die("path has , or :", dir);
  if (join(layer, sizeof layer, dir, "layer") || join(root, sizeof root, dir, "rootfs") ||
      join(up, sizeof up, dir, "layer/upper") || join(work, sizeof work, dir, "layer/work") ||
      join(tmp, sizeof tmp, dir, "layer/tmp"))
    return errno = ENAMETOOLONG, die("path", dir);
  if (unshare(CLONE_NEWNS) < 0) return die("unshare", "mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return die("make private", "/");
  if (mkdir(layer, 0700) < 0 && errno != EEXIST) return die("mkdir", layer);
  if (mkdir(root, 0755) < 0 && errno != EEXIST) return die("mkdir", root);
  snprintf(data, sizeof data, "size=%ldm,mode=0700", size);
  if (mount("tmpfs", layer, "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) return die("mount tmpfs", layer);
  if (mkdir(up, 0755) < 0) return die("mkdir", up);
  if (mkdir(work, 0700) < 0) return die("mkdir", work);
  /* A /tmp on the same capped tmpfs, for runtimes that mount /tmp separately (runsc). It is
   * made here, never taken from the template, so a template's /tmp symlink cannot point a
   * bind mount at a host path. */
  if (mkdir(tmp, 0700) < 0 || chmod(tmp, 01777) < 0) return die("mkdir", tmp);
  snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower, up, work);
  if (mount("overlay", root, "overlay", MS_NODEV, data) < 0) return die("mount overlay", root);
  return 0;
}

static int join_cgroup(const char *dir) {
  char path[4096];
  if (join(path, sizeof path, dir, "cgroup.procs")) return errno = ENAMETOOLONG, die("path", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return die("open", path);
  /* "0" moves the writing process itself */
  if (write(fd, "0", 1) != 1) {
    int e = errno;
    close(fd);
    return errno = e, die("join", path);
  }
  close(fd);
  return 0;
}

/* Reads exactly n bytes; 0 on success. */
static int read_exact(int fd, char *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t got = read(fd, buf + off, n - off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    off += (size_t)got;
  }
  return 0;
}

/* `tt-layer stdin`: the arguments from stdin, as argv (argv[0] kept). Exits quietly at EOF: the host went away. */
static char **args_from_stdin(const char *argv0, int *argc) {
  unsigned char h[4];
  if (read_exact(0, (char *)h, 4)) exit(0);
  size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
  if (len == 0 || len > (1u << 20)) exit(64);
  char *buf = malloc(len + 1);
  if (!buf || read_exact(0, buf, len)) exit(64);
  buf[len] = 0;
  size_t n = 1;
  for (size_t i = 0; i < len; i++) n += buf[i] == 0;
  char **out = calloc(n + 2, sizeof *out);
  if (!out) exit(64);
  out[0] = (char *)argv0;
  int k = 1;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) out[k++] = buf + i;
  *argc = k;
  return out;
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "stdin")) argv = args_from_stdin(argv[0], &argc);
  if (argc < 7 || strcmp(argv[1], "run")) goto usage;
  int i = 5;
  for (; i + 1 < argc && !strcmp(argv[i], "--cgroup"); i += 2) {
    if (join_cgroup(argv[i + 1])) return 125;
  }
  if (i + 1 >= argc || strcmp(argv[i], "--")) goto usage;
  int rc = setup(argv[2], argv[3], argv[4]);
  if (rc) return rc;
  execvp(argv[i + 1], argv + i + 1);
  return die("exec", argv[i + 1]);
usage:
  fprintf(stderr, "usage: tt-layer run DIR LOWER SIZE_MIB [--cgroup CGDIR]... -- RUNTIME ARGS...\n");
  return 64;
}
