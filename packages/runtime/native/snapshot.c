/*
 * The files of a sandbox's writable layer as a tar, out of it and into a new one (filesystem
 * snapshots): `tt-layer snapshot PID DIR` writes DIR/layer/upper to stdout, and
 * `tt-layer run … --seed TAR` fills a new layer's upper from TAR before the overlay is mounted.
 *
 * Both run tar inside the sandbox's user namespace as its root, so that owners are written and
 * read as the sandbox sees them (0..65535) whatever host range each sandbox has. An overlay's
 * whiteouts (0/0 character devices: deleted template files) travel as such; the kernel lets a
 * namespace's root make them. Its opaque-directory marks (trusted.* attributes, which a user
 * namespace cannot see) do not: a directory deleted and made again shows the template's files
 * again after a restore.
 *
 * A runtime that binds the layer's tmp/ on /tmp apart from the overlay (runsc) keeps the
 * sandbox's /tmp there: `snapshot … --with-tmp` adds it to the tar as tmp/, and `run … --seed TAR
 * --tmp-apart` moves what the tar put in upper/tmp into tmp/ (`tt_tmp_apart`), so that /tmp
 * travels in a files snapshot as under runc, between drivers too.
 *
 * `tt-layer snapshot PID DIR --hold` (a gVisor memory snapshot, drivers/gvisor/checkpoint.ts)
 * enters the namespaces, says so (one byte on fd 3) and then holds the mount namespace, and with it
 * the layer's tmpfs, until the host writes one byte on its stdin: by then the runtime has
 * checkpointed and exited, and the layer would have gone with it. It then writes the whole layer,
 * upper/ and tmp/ (runsc's /tmp), as a tar, for `run … --seed-layer TAR`. Its stdin closed without
 * that byte: nothing is written (exit 3).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "snapshot.h"

static int fail(const char *what, const char *path) {
  fprintf(stderr, "tt-layer: %s %s: %s\n", what, path, strerror(errno));
  return 125;
}

/* Becomes root of the user namespace open at `ns` (host root joins any). */
static int become_ns_root(int ns) {
  return setgroups(0, NULL) || setns(ns, CLONE_NEWUSER) || setresgid(0, 0, 0) || setresuid(0, 0, 0) ? -1 : 0;
}

int tt_seed(const char *tar, const char *upper, const char *userns) {
  /* (`upper` is the layer itself for --seed-layer: its tar holds upper/ and tmp/.) */
  int in = open(tar, O_RDONLY | O_CLOEXEC);
  if (in < 0) return fail("open", tar);
  int ns = userns ? open(userns, O_RDONLY | O_CLOEXEC) : -1;
  if (userns && ns < 0) return fail("open", userns);
  pid_t c = fork();
  if (c < 0) return fail("fork", "tar");
  if (c == 0) {
    /* Into the layer as host root (the namespace's root may not pass the state dir's parents). */
    if (dup2(in, 0) < 0 || chdir(upper) != 0 || (ns >= 0 && become_ns_root(ns) != 0)) _exit(126);
    execlp("tar", "tar", "--numeric-owner", "-xpf", "-", (char *)NULL);
    _exit(127);
  }
  close(in);
  if (ns >= 0) close(ns);
  int st = 0;
  if (waitpid(c, &st, 0) < 0) return fail("wait for", "tar");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return errno = EIO, fail("unpack the snapshot", tar);
  return 0;
}

/* Moves one pass of upper/tmp's entries into `tmp`; returns how many moved, or -1. */
static int move_entries(int src, int dst, DIR *d) {
  int moved = 0;
  struct dirent *e;
  rewinddir(d);
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    /* A whiteout (a template file the snapshot had deleted) stays in the overlay's upper. */
    if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0) continue;
    if (renameat(src, e->d_name, dst, e->d_name) != 0) {
      fail("move into the sandbox's /tmp:", e->d_name);
      return -1;
    }
    moved++;
  }
  return moved;
}

int tt_tmp_apart(const char *upper, const char *tmp) {
  char from[4096];
  if (snprintf(from, sizeof from, "%s/tmp", upper) >= (int)sizeof from) return errno = ENAMETOOLONG, fail("path", upper);
  int src = open(from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* No tmp/ in the snapshot (or not a directory): nothing to move. */
  if (src < 0) return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : fail("open", from);
  int dst = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dst < 0 ? NULL : fdopendir(src);
  if (!d) {
    int rc = fail("open", dst < 0 ? tmp : from);
    close(src);
    if (dst >= 0) close(dst);
    return rc;
  }
  /* Passes until none moves: entries renamed away under readdir's feet may hide others. */
  int moved;
  while ((moved = move_entries(src, dst, d)) > 0) {}
  closedir(d);
  close(dst);
  if (moved < 0) return 125;
  /* Emptied, it goes (the template's /tmp shows again, a symlink included); whiteouts keep it. */
  if (rmdir(from) != 0 && errno != ENOTEMPTY && errno != EEXIST) return fail("remove", from);
  return 0;
}

int tt_snapshot(const char *pid, const char *dir, int how) {
  char path[64], from[4096], userns[4096];
  if (snprintf(from, sizeof from, how == TT_SNAPSHOT_HOLD ? "%s/layer" : "%s/layer/upper", dir) >= (int)sizeof from ||
      snprintf(userns, sizeof userns, "%s/userns", dir) >= (int)sizeof userns)
    return errno = ENAMETOOLONG, fail("path", dir);
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
  int mnt = open(path, O_RDONLY | O_CLOEXEC);
  if (mnt < 0) return fail("open", path);
  /* The mount namespace first, as host root; there, the sandbox's user namespace (kept at
   * DIR/userns by `run`), whose root reads the layer. */
  if (setns(mnt, CLONE_NEWNS) != 0) return fail("enter the mount namespace of", pid);
  int ns = open(userns, O_RDONLY | O_CLOEXEC);
  if (ns < 0 && errno != ENOENT) return fail("open", userns);
  /* Into the layer as host root (the namespace's root may not pass the state dir's parents). */
  if (chdir(from) != 0) return fail("enter", from);
  if (ns >= 0 && become_ns_root(ns) != 0) return fail("enter the user namespace at", userns);
  if (how == TT_SNAPSHOT_HOLD) {
    char go;
    if (write(3, "R", 1) != 1) return fail("say it holds", "the layer");
    close(3);
    ssize_t got;
    while ((got = read(0, &go, 1)) < 0 && errno == EINTR) {}
    if (got != 1) return 3;
    /* (The helpers' mount point is made by the runtime at every start.) */
    execlp("tar", "tar", "--numeric-owner", "--sparse", "--exclude=./upper/dev/.tartarus", "-cf", "-", "./upper", "./tmp", (char *)NULL);
    return fail("exec", "tar");
  }
  /* (The helpers' mount point is made by the runtime at every start.) */
  /* --sparse: a file with holes takes its data's room, not its length's. */
  if (how == TT_SNAPSHOT_WITH_TMP)
    execlp("tar", "tar", "--numeric-owner", "--sparse", "--exclude=./dev/.tartarus", "-cf", "-", ".", "-C", "..", "tmp", (char *)NULL);
  else
    execlp("tar", "tar", "--numeric-owner", "--sparse", "--exclude=./dev/.tartarus", "-cf", "-", ".", (char *)NULL);
  return fail("exec", "tar");
}
