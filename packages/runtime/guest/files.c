/*
 * File requests of the agent: read, write (chunked), list, remove. They run inside the sandbox,
 * whose whole filesystem is the sandbox's: there is no host path to escape to, so paths are used
 * as given (the host checks they are absolute). On microVMs they run as root; in containers as
 * the sandbox's user (platform_files_begin), so what the workload may not touch, the API may not.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "proto.h"

#define MAX_WRITES 64
static struct { uint32_t id; int fd; } writes[MAX_WRITES];
static int nwrites;

/* mkdir -p of the parent directories of `path`. */
static void make_parents(char *path) {
  for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = 0;
    mkdir(path, 0755);
    *s = '/';
  }
}

/* An error naming the step that failed ("/tmp/x (read): Invalid argument"); the common ones
 * (ENOENT, EACCES, EPERM, EISDIR) keep the plain "path: reason". */
static void send_step_error(uint32_t id, int err, const char *path, const char *step) {
  if (err == ENOENT || err == EACCES || err == EPERM || err == EISDIR) { send_error(id, err, path); return; }
  char what[512];
  snprintf(what, sizeof what, "%.400s (%s)", path, step);
  send_error(id, err, what);
}

/* Which step of the last open_regular failed, for the error's message. */
static const char *open_step = "open";

/* Regular files only: a FIFO, device or socket (planted by the workload, or a /proc/self/fd link
 * to this agent's own channel) could block the agent or reach the host's channel. Opened
 * non-blocking so that not even the open of a FIFO can wait. */
static int open_regular(const char *path, int flags, mode_t mode, int *err) {
  int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
  struct stat st;
  open_step = fd < 0 ? "open" : "fstat";
  if (fd < 0 || fstat(fd, &st) != 0) { *err = errno; if (fd >= 0) close(fd); return -1; }
  open_step = "not a regular file";
  if (!S_ISREG(st.st_mode)) { *err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL; close(fd); return -1; }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

/* Bytes a read sends at most: the host's cap (64 MiB) and one more, so it sees the overflow. */
#define READ_CAP ((uint64_t)64 << 20)

static void file_read(uint32_t id, const char *path) {
  int e = 0;
  int fd = open_regular(path, O_RDONLY, 0, &e);
  if (fd < 0) { send_step_error(id, e, path, open_step); return; }
  static uint8_t buf[65536];
  ssize_t got = 0;
  uint64_t sent = 0;
  while (sent <= READ_CAP && (got = read(fd, buf, sizeof buf)) > 0) {
    send_frame(T_DATA, id, buf, (size_t)got);
    sent += (uint64_t)got;
  }
  if (sent > READ_CAP) { close(fd); send_ok(id); return; }
  e = errno;
  close(fd);
  if (got < 0) send_step_error(id, e, path, "read"); else send_ok(id);
}

static int write_slot(uint32_t id) {
  for (int i = 0; i < nwrites; i++) if (writes[i].id == id) return i;
  return -1;
}

static void file_write(uint32_t id, struct rd *r) {
  uint8_t flags = rd_u8(r);
  uint32_t mode = rd_u32(r);
  char *path = rd_str(r);
  if (r->bad) { free(path); send_error(id, EINVAL, "write"); return; }
  int slot = write_slot(id);
  if (slot < 0 && (flags & 1)) {
    if (nwrites == MAX_WRITES) { free(path); send_error(id, EBUSY, "write"); return; }
    make_parents(path);
    int e0 = 0;
    int fd = open_regular(path, O_WRONLY | O_CREAT | O_TRUNC, mode & 07777, &e0);
    if (fd < 0) { send_error(id, e0, path); free(path); return; }
    fchmod(fd, mode & 07777); /* umask must not narrow what the caller asked for */
    writes[nwrites].id = id;
    writes[nwrites].fd = fd;
    slot = nwrites++;
  }
  if (slot < 0) { free(path); return; } /* a chunk of a write that already failed */
  int fd = writes[slot].fd, e = 0;
  for (size_t off = 0; off < r->n;) {
    ssize_t w = write(fd, r->p + off, r->n - off);
    if (w < 0) { if (errno == EINTR) continue; e = errno; break; }
    off += (size_t)w;
  }
  if (e || (flags & 2)) {
    if (close(fd) != 0 && !e) e = errno;
    writes[slot] = writes[--nwrites];
    if (e) send_error(id, e, path); else send_ok(id);
  }
  free(path);
}

static void file_list(uint32_t id, const char *path) {
  DIR *d = opendir(path);
  if (!d) { send_error(id, errno, path); return; }
  struct wr w = {.n = 0};
  struct dirent *e;
  uint32_t count = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (++count > TT_MAX_LIST_ENTRIES) { closedir(d); send_error(id, E2BIG, path); return; }
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    size_t len = strlen(e->d_name);
    if (w.n + 25 + len > sizeof w.buf) { send_frame(T_DATA, id, w.buf, w.n); w.n = 0; }
    uint8_t type = S_ISREG(st.st_mode) ? 0 : S_ISDIR(st.st_mode) ? 1 : S_ISLNK(st.st_mode) ? 2 : 3;
    wr_u8(&w, type);
    wr_u32(&w, st.st_mode & 07777);
    wr_u64(&w, (uint64_t)st.st_size);
    wr_u64(&w, (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000);
    wr_u32(&w, (uint32_t)len);
    wr_bytes(&w, e->d_name, len);
  }
  closedir(d);
  if (w.n) send_frame(T_DATA, id, w.buf, w.n);
  send_ok(id);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)ftw;
  return (flag == FTW_DP ? rmdir(p) : unlink(p)) != 0 ? errno : 0;
}

static void file_remove(uint32_t id, int recursive, const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) { send_error(id, errno, path); return; }
  int e = 0;
  if (!S_ISDIR(st.st_mode)) e = unlink(path) ? errno : 0;
  else if (recursive) e = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
  else e = rmdir(path) ? errno : 0;
  if (e) send_error(id, e, path); else send_ok(id);
}

static void file_request_as_user(uint8_t type, uint32_t id, struct rd *r) {
  if (type == T_FWRITE) { file_write(id, r); return; }
  uint8_t recursive = type == T_FREMOVE ? rd_u8(r) : 0;
  char *path = rd_str(r);
  if (r->bad || !path || path[0] != '/') { send_error(id, EINVAL, "path must be absolute"); free(path); return; }
  if (type == T_FREAD) file_read(id, path);
  else if (type == T_FLIST) file_list(id, path);
  else file_remove(id, recursive, path);
  free(path);
}

void file_request(uint8_t type, uint32_t id, struct rd *r) {
  int e = platform_files_begin();
  if (e) { send_error(id, e, "cannot act as the sandbox's user"); return; } /* never as root */
  file_request_as_user(type, id, r);
  platform_files_end();
}
