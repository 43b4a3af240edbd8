/*
 * tt-files: the in-sandbox file helper of Tartarus. It is bind-mounted read-only into every
 * sandbox at /dev/.tartarus/tt-files and run there with `runc exec` / `runsc exec`, so that every
 * path is resolved by the sandbox's own kernel view (its mount namespace and root): `..`,
 * absolute symlinks and symlinks swapped during a call resolve inside the sandbox and cannot
 * reach a host file.
 *
 *   tt-files read PATH            file bytes to stdout
 *   tt-files write PATH MODE      stdin to PATH (parents created), MODE octal
 *   tt-files list PATH            one record per entry: type NUL mode NUL size NUL mtime_ms NUL name NUL
 *   tt-files rm PATH [-r]         unlink, or remove a tree with -r
 *   tt-files init                 idle PID 1: reaps zombies, exits on SIGTERM/SIGINT
 *
 * Exit status: 0 ok, 2 not found, 3 wrong type (is a dir / not a dir / not empty), 4 permission
 * denied, 1 other.
 * The error message goes to stderr as "tt-files: <strerror>".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
  int e = errno;
  fprintf(stderr, "tt-files: %s: %s\n", what, strerror(e));
  if (e == ENOENT) return 2;
  if (e == EISDIR || e == ENOTDIR || e == ENOTEMPTY) return 3;
  if (e == EACCES || e == EPERM || e == EROFS) return 4;
  return 1;
}

static int copy_fd(int in, int out) {
  static char buf[1 << 16];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      off += w;
    }
  }
}

static int cmd_read(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path);
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return fail(path);
  }
  if (copy_fd(fd, 1) < 0) return fail(path);
  return 0;
}

/* mkdir -p of every parent of path */
static int mkparents(const char *path) {
  char *p = strdup(path);
  if (!p) return -1;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0755) < 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    *s = '/';
  }
  free(p);
  return 0;
}

static int cmd_write(const char *path, const char *mode_s) {
  mode_t mode = (mode_t)strtol(mode_s, NULL, 8) & 07777;
  if (mkparents(path) < 0) return fail(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail(path);
  if (fchmod(fd, mode) < 0 || copy_fd(0, fd) < 0) return fail(path);
  if (close(fd) < 0) return fail(path);
  return 0;
}

static int cmd_list(const char *path) {
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(path);
  DIR *d = fdopendir(dfd);
  if (!d) return fail(path);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue; /* vanished meanwhile */
    char t = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'o';
    long long ms = (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    printf("%c%c%o%c%lld%c%lld%c%s%c", t, 0, (unsigned)(st.st_mode & 07777), 0,
           (long long)st.st_size, 0, ms, 0, e->d_name, 0);
  }
  closedir(d);
  return fflush(stdout) == 0 ? 0 : fail("stdout");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)ftw;
  return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT ? -1 : 0;
}

static int cmd_rm(const char *path, int recursive) {
  struct stat st;
  if (lstat(path, &st) < 0) return fail(path);
  if (!S_ISDIR(st.st_mode)) return unlink(path) < 0 ? fail(path) : 0;
  if (!recursive) return rmdir(path) < 0 ? fail(path) : 0;
  /* FTW_PHYS: never follow a symlink out of the tree being removed */
  return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0 ? fail(path) : 0;
}

static int cmd_init(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) return 128 + sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "read") && argc == 3) return cmd_read(argv[2]);
  if (!strcmp(cmd, "write") && argc == 4) return cmd_write(argv[2], argv[3]);
  if (!strcmp(cmd, "list") && argc == 3) return cmd_list(argv[2]);
  if (!strcmp(cmd, "rm") && (argc == 3 || argc == 4)) return cmd_rm(argv[2], argc == 4 && !strcmp(argv[3], "-r"));
  if (!strcmp(cmd, "init") && argc == 2) return cmd_init();
  fprintf(stderr, "usage: tt-files read|write|list|rm|init ...\n");
  return 64;
}
