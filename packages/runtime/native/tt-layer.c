/*
 * tt-layer: gives one sandbox its writable layer in a private mount namespace, then execs the
 * OCI runtime in it.
 *
 *   tt-layer run DIR LOWER SIZE_MIB [--cgroup CGDIR]... [--idmap BASE [--netns PATH] [--root ROOT] [--enter]] [--mask DIR]... [--seed TAR [--tmp-apart] | --seed-layer TAR] [--image SRC] -- RUNTIME ARGS...
 *   tt-layer stdin
 *   tt-layer netns BASE PATH [VETH BRIDGE ADDR/PREFIX GATEWAY]
 *   tt-layer spare BASE PATH VETH BRIDGE ADDR/PREFIX GATEWAY
 *   tt-layer take SPARE_PATH PATH SPARE_VETH VETH BRIDGE
 *   tt-layer serve HOST_PID
 *   tt-layer snapshot PID DIR [--hold | --with-tmp]
 *
 * `snapshot` writes a running sandbox's writable layer to stdout as a tar, and `run … --seed TAR`
 * starts a layer from one (snapshot.c); `snapshot … --hold` and `run … --seed-layer TAR` do the
 * same with the whole layer (upper/ and tmp/), for gVisor memory snapshots.
 *
 * `serve` runs the network subcommands (and `exec PROGRAM ARGS...`) on request, each in a child of
 * its own, for as long as its stdin lasts (serve.c): the host keeps one instead of spawning each.
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
 * With --idmap BASE (a sandbox in its own user namespace, container ids 0..65535 = host ids
 * BASE..BASE+65535), LOWER is first given an idmapped mount (DIR/layer/lower: the shared,
 * read-only template, seen with every owner shifted by BASE — no copy per sandbox), the layer's
 * directories belong to BASE, the overlay is mounted at ROOT, a directory the mapped root can
 * reach (the state dir's parents need not be traversable by it), and the user namespace itself
 * (owned by BASE) is kept at DIR/userns for the runtime to join.
 *
 * With --netns PATH as well, the user namespace is not made but the one that owns the network
 * namespace at PATH, made earlier by `tt-layer netns BASE PATH` (a new user namespace of range
 * BASE and a network namespace it owns, bind-mounted at PATH on the host, where the host puts
 * the sandbox's interface before it starts: network/sandbox.ts).
 *
 * With --image SRC (a gVisor sandbox restored from a checkpoint), SRC (in the root-only state dir,
 * readable by the sandbox's mapped root) is bound at DIR/checkpoint, where the runtime, running as
 * that root, finds the image: it could not pass SRC's parents.
 *
 * With --mask DIR, an empty read-only tmpfs hides DIR from the runtime (in the private mount
 * namespace only): runsc takes a network namespace for the host's own when /proc/sys/net/core
 * has rmem_default, which kernels since 6.x show in every namespace (drivers/gvisor/argv.ts).
 *
 * With --enter as well, RUNTIME itself runs inside that user namespace as its root (host uid
 * BASE, with the namespace's capabilities only): for runsc, which has no user namespace of its
 * own to join on the host, so that its gofer and sentry run as the sandbox's own host uids
 * (BASE and BASE+65534) rather than root and the `nobody` every gVisor sandbox would share.
 *
 * Exit status: the runtime's, or 125 when the layer could not be set up (message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/nsfs.h>
#include "netlink.h"
#include "serve.h"
#include "snapshot.h"
#include <linux/mount.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int die(const char *what, const char *path) {
  fprintf(stderr, "tt-layer: %s %s: %s\n", what, path, strerror(errno));
  return 125;
}

static int join(char *out, size_t n, const char *dir, const char *leaf) {
  return snprintf(out, n, "%s/%s", dir, leaf) >= (int)n ? -1 : 0;
}

/* Bind-mounts the namespace file `ns` (a /proc path) at `at`, made as an empty file first. */
static int keep_ns(const char *ns, const char *at) {
  int f = open(at, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (f < 0) return -1;
  close(f);
  return mount(ns, at, NULL, MS_BIND, NULL);
}

/*
 * A user namespace mapping 0..65535 to base..base+65535, owned by `base`: made by a child that
 * drops to `base`, unshares and waits while the maps are written. Returned as an fd (for the
 * idmapped mount) and bind-mounted at `keep` (the runtime joins it there). With `netns`, the
 * child also makes a network namespace, owned by that user namespace (so that a runtime running
 * as its root may configure and join it), bind-mounted at `netns`.
 */
static int userns_fd(unsigned base, const char *keep, const char *netns) {
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) || pipe2(hold, O_CLOEXEC)) return -1;
  pid_t c = fork();
  if (c < 0) return -1;
  if (c == 0) {
    char b = 0;
    close(hold[1]); /* else the parent's close would never reach EOF here */
    close(ready[0]);
    /* Made as the range's own host uid, so that the namespace is owned by it: the kernel charges
     * per-user counts (inotify instances, message queues...) of everything inside to its owner
     * in the parent namespace — this sandbox's uid, not root shared by every sandbox. */
    if (setresgid(base, base, base) != 0 || setresuid(base, base, base) != 0) _exit(1);
    if (unshare(CLONE_NEWUSER | (netns ? CLONE_NEWNET : 0)) != 0) _exit(1);
    if (write(ready[1], &b, 1) != 1) _exit(1);
    if (read(hold[0], &b, 1) < 0) _exit(1); /* EOF when the parent is done */
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char b, path[64], map[64];
  int fd = -1;
  if (read(ready[0], &b, 1) == 1) {
    snprintf(map, sizeof map, "0 %u 65536\n", base);
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
      snprintf(path, sizeof path, "/proc/%d/%s", (int)c, k ? "gid_map" : "uid_map");
      int m = open(path, O_WRONLY | O_CLOEXEC);
      ok = m >= 0 && write(m, map, strlen(map)) == (ssize_t)strlen(map);
      if (m >= 0) close(m);
    }
    if (ok && netns) {
      snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c);
      ok = keep_ns(path, netns) == 0;
    }
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)c);
    if (ok) fd = open(path, O_RDONLY | O_CLOEXEC);
    /* Kept at `keep` (in this private mount namespace) for the runtime to join: it outlives the child. */
    if (fd >= 0 && keep && keep_ns(path, keep) != 0) {
      close(fd);
      fd = -1;
    }
  }
  int e = errno;
  close(ready[0]);
  close(hold[1]);
  waitpid(c, NULL, 0);
  errno = e;
  return fd;
}

/* The user namespace that owns the network namespace at `netns` (made by `tt-layer netns`), kept at `keep`. */
static int userns_of(const char *netns, const char *keep) {
  int net = open(netns, O_RDONLY | O_CLOEXEC);
  if (net < 0) return -1;
  int fd = ioctl(net, NS_GET_USERNS);
  int e = errno;
  close(net);
  if (fd < 0) return errno = e, -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (keep_ns(path, keep) != 0) {
    e = errno;
    close(fd);
    return errno = e, -1;
  }
  return fd;
}

/* Mounts `src` at `dst` with owners shifted by the mapping of `userns` (an idmapped bind mount). */
static int idmapped_bind(const char *src, const char *dst, int userns) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return die("open_tree", src);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return die("idmap", src);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) != 0) return die("move_mount", dst);
  close(tree);
  return 0;
}

/* With an idmap: the idmapped lower at DIR/layer/lower and the layer's dirs owned by the mapped root. */
static int shift_lower(const char *layer, const char *lower, long base, const char *netns, const char *up, const char *work, const char *tmp, char *out, size_t n, int *keep_userns) {
  if (join(out, n, layer, "lower")) return errno = ENAMETOOLONG, die("path", layer);
  if (mkdir(out, 0755) < 0) return die("mkdir", out);
  char keep[4096];
  if (join(keep, sizeof keep, layer, "../userns")) return errno = ENAMETOOLONG, die("path", layer);
  int ns = netns ? userns_of(netns, keep) : userns_fd((unsigned)base, keep, NULL);
  if (ns < 0) return die("user namespace for", netns ? netns : lower);
  int rc = idmapped_bind(lower, out, ns);
  if (rc || !keep_userns) close(ns);
  else *keep_userns = ns;
  if (rc) return rc;
  const char *mine[] = {layer, up, work, tmp};
  for (size_t k = 0; k < sizeof mine / sizeof mine[0]; k++)
    if (chown(mine[k], (uid_t)base, (gid_t)base) < 0) return die("chown", mine[k]);
  return 0;
}

/* A tar to fill the new layer's upper from (`--seed`), or the whole layer (`--seed-layer`), or NULL. */
static const char *seed;
static int seed_layer;
/* The runtime binds tmp/ on /tmp (`--tmp-apart`): a seed's upper/tmp entries go there. */
static int tmp_apart;
/* A checkpoint's directory bound at DIR/checkpoint (`--image`), or NULL. */
static const char *image;

static int setup(const char *dir, const char *lower, const char *size_mib, long idmap, const char *netns, const char *at, int *keep_userns) {
  char layer[4096], root[4096], up[4096], work[4096], tmp[4096], shifted[4096], data[12800];
  char *end = NULL;
  long size = strtol(size_mib, &end, 10);
  if (size <= 0 || *end) return errno = EINVAL, die("bad size", size_mib);
  /* overlay options are comma separated: a path holding one would be misparsed */
  if (strpbrk(lower, ",:") || strpbrk(dir, ",:")) return errno = EINVAL, die("path has , or :", dir);
  if (at) {
    if (strpbrk(at, ",:")) return errno = EINVAL, die("path has , or :", at);
    if (snprintf(root, sizeof root, "%s", at) >= (int)sizeof root) return errno = ENAMETOOLONG, die("path", at);
  } else if (join(root, sizeof root, dir, "rootfs")) {
    return errno = ENAMETOOLONG, die("path", dir);
  }
  if (join(layer, sizeof layer, dir, "layer") ||
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
  if (idmap >= 0) {
    int rc = shift_lower(layer, lower, idmap, netns, up, work, tmp, shifted, sizeof shifted, keep_userns);
    if (rc) return rc;
    lower = shifted;
  }
  if (seed) {
    char userns[4096];
    if (join(userns, sizeof userns, dir, "userns")) return errno = ENAMETOOLONG, die("path", dir);
    int rc = tt_seed(seed, seed_layer ? layer : up, idmap >= 0 ? userns : NULL);
    if (!rc && !seed_layer && tmp_apart) rc = tt_tmp_apart(up, tmp);
    if (rc) return rc;
  }
  if (image) {
    char at_image[4096];
    if (join(at_image, sizeof at_image, dir, "checkpoint")) return errno = ENAMETOOLONG, die("path", dir);
    if (mkdir(at_image, 0700) < 0 && errno != EEXIST) return die("mkdir", at_image);
    if (mount(image, at_image, NULL, MS_BIND, NULL) < 0) return die("bind the checkpoint", image);
  }
  snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower, up, work);
  if (mount("overlay", root, "overlay", MS_NODEV, data) < 0) return die("mount overlay", root);
  return 0;
}

/* Becomes root of the user namespace `ns` (host uid BASE): no host groups, the namespace's capabilities. */
static int enter_userns(int ns) {
  if (setgroups(0, NULL) != 0) return die("setgroups", "[]");
  if (setns(ns, CLONE_NEWUSER) != 0) return die("setns", "user namespace");
  close(ns);
  if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) return die("become root of", "user namespace");
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

/*
 * In this private mount namespace only: an empty read-only directory over each path. A mask
 * inside /proc leaves it not "fully visible", and the kernel then refuses a new proc mount to a
 * user namespace (the runtime's gofer makes one): a plain bind of /proc at DIR/proc, with no
 * mount under it, keeps one proc fully visible in the namespace.
 */
static int mask_paths(const char *dir, const char **paths, int n) {
  char proc[4096];
  if (join(proc, sizeof proc, dir, "proc")) return errno = ENAMETOOLONG, die("path", dir);
  if (mkdir(proc, 0555) < 0 && errno != EEXIST) return die("mkdir", proc);
  if (mount("/proc", proc, NULL, MS_BIND, NULL) != 0) return die("bind /proc at", proc);
  for (int k = 0; k < n; k++)
    if (mount("tmpfs", paths[k], "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") != 0) return die("mask", paths[k]);
  return 0;
}

/*
 * `tt-layer netns BASE PATH [VETH BRIDGE ADDR/PREFIX GATEWAY]`: a network namespace owned by a new
 * user namespace of range BASE, kept at PATH; with the rest, also its interface (netlink.c).
 * `tt-layer spare …` (the same arguments, all of them) leaves the interface's host end down: a
 * namespace made ahead of need, taken by a sandbox with `take`.
 */
static int make_netns(int argc, char **argv) {
  char *end = NULL;
  long base = strtol(argv[2], &end, 10);
  if (base <= 0 || *end || base > 4294901759L) return errno = EINVAL, die("bad base", argv[2]);
  int fd = userns_fd((unsigned)base, NULL, argv[3]);
  if (fd < 0) return die("network namespace at", argv[3]);
  close(fd);
  if (argc == 4) return 0;
  char *slash = strchr(argv[6], '/');
  if (!slash) return errno = EINVAL, die("address without /prefix:", argv[6]);
  *slash = 0;
  int net = open(argv[3], O_RDONLY | O_CLOEXEC);
  if (net < 0) return die("open", argv[3]);
  const char *what = "";
  if (tt_net_attach(net, argv[4], argv[5], argv[6], atoi(slash + 1), argv[7], !strcmp(argv[1], "spare"), &what) != 0) return die(what, argv[4]);
  return 0;
}

/*
 * `tt-layer take SPARE_PATH PATH SPARE_VETH VETH BRIDGE`: a spare namespace becomes a sandbox's:
 * kept at PATH instead of SPARE_PATH, its interface's host end renamed VETH, a port of BRIDGE, up.
 */
static int take_netns(char **argv) {
  if (keep_ns(argv[2], argv[3]) != 0) return die("keep the network namespace at", argv[3]);
  if (umount2(argv[2], MNT_DETACH) != 0 || unlink(argv[2]) != 0) return die("let go of", argv[2]);
  const char *what = "";
  if (tt_net_rename_up(argv[4], argv[5], argv[6], &what) != 0) return die(what, argv[4]);
  return 0;
}

/* The network subcommands (alone, or requested of `serve`); -1 when argv is none of them. */
static int net_subcommand(int argc, char **argv) {
  if (((argc == 4 || argc == 8) && !strcmp(argv[1], "netns")) || (argc == 8 && !strcmp(argv[1], "spare"))) return make_netns(argc, argv);
  if (argc == 7 && !strcmp(argv[1], "take")) return take_netns(argv);
  return -1;
}

static int served(int argc, char **argv) {
  int rc = net_subcommand(argc, argv);
  if (rc < 0) fprintf(stderr, "tt-layer serve: no such request: %s\n", argc > 1 ? argv[1] : "");
  return rc < 0 ? 64 : rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "serve")) return tt_serve(argv[0], (pid_t)atol(argv[2]), served);
  if (argc == 4 && !strcmp(argv[1], "snapshot")) return tt_snapshot(argv[2], argv[3], TT_SNAPSHOT_UPPER);
  if (argc == 5 && !strcmp(argv[1], "snapshot") && !strcmp(argv[4], "--hold")) return tt_snapshot(argv[2], argv[3], TT_SNAPSHOT_HOLD);
  if (argc == 5 && !strcmp(argv[1], "snapshot") && !strcmp(argv[4], "--with-tmp")) return tt_snapshot(argv[2], argv[3], TT_SNAPSHOT_WITH_TMP);
  if (argc == 2 && !strcmp(argv[1], "stdin")) argv = args_from_stdin(argv[0], &argc);
  int net = net_subcommand(argc, argv);
  if (net >= 0) return net;
  if (argc < 7 || strcmp(argv[1], "run")) goto usage;
  int i = 5;
  long idmap = -1;
  const char *at = NULL, *netns = NULL, *masks[8] = {0};
  int nmasks = 0;
  int enter = 0, ns = -1;
  for (; i + 1 < argc && strcmp(argv[i], "--"); i++) {
    if (!strcmp(argv[i], "--enter")) {
      enter = 1;
      continue;
    }
    if (!strcmp(argv[i], "--tmp-apart")) {
      tmp_apart = 1;
      continue;
    }
    const char *flag = argv[i], *value = argv[++i];
    if (!strcmp(flag, "--cgroup")) {
      if (join_cgroup(value)) return 125;
    } else if (!strcmp(flag, "--idmap")) {
      char *end = NULL;
      idmap = strtol(value, &end, 10);
      if (idmap <= 0 || *end || idmap > 4294901759L) return errno = EINVAL, die("bad --idmap", value);
    } else if (!strcmp(flag, "--root")) {
      at = value;
    } else if (!strcmp(flag, "--netns")) {
      netns = value;
    } else if (!strcmp(flag, "--seed") || !strcmp(flag, "--seed-layer")) {
      seed = value;
      seed_layer = !strcmp(flag, "--seed-layer");
    } else if (!strcmp(flag, "--image")) {
      image = value;
    } else if (!strcmp(flag, "--mask")) {
      if (nmasks == (int)(sizeof masks / sizeof masks[0])) goto usage;
      masks[nmasks++] = value;
    } else {
      goto usage;
    }
  }
  if (i + 1 >= argc || strcmp(argv[i], "--") || ((enter || netns) && idmap < 0)) goto usage;
  int rc = setup(argv[2], argv[3], argv[4], idmap, netns, at, enter ? &ns : NULL);
  if (rc) return rc;
  if (nmasks && (rc = mask_paths(argv[2], masks, nmasks))) return rc;
  if (enter && (rc = enter_userns(ns))) return rc;
  execvp(argv[i + 1], argv + i + 1);
  return die("exec", argv[i + 1]);
usage:
  fprintf(stderr, "usage: tt-layer run DIR LOWER SIZE_MIB [--cgroup CGDIR]... [--idmap BASE [--netns PATH] [--root ROOT] [--enter]] [--mask DIR]... [--seed TAR [--tmp-apart] | --seed-layer TAR] [--image SRC] -- RUNTIME ARGS...\n"
                  "       tt-layer netns BASE PATH [VETH BRIDGE ADDR/PREFIX GATEWAY]\n"
                  "       tt-layer spare BASE PATH VETH BRIDGE ADDR/PREFIX GATEWAY\n"
                  "       tt-layer take SPARE_PATH PATH SPARE_VETH VETH BRIDGE\n"
                  "       tt-layer serve HOST_PID\n"
                  "       tt-layer snapshot PID DIR [--hold | --with-tmp]\n");
  return 64;
}
