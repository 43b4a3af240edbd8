/*
 * Frame encoding for the agent (see proto.h). Reads are bounds-checked: a malformed payload
 * from the host marks the cursor bad instead of reading past the buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/uio.h>
#include <unistd.h>
#include "proto.h"

int g_port = -1;

uint8_t rd_u8(struct rd *r) {
  if (r->n < 1) { r->bad = 1; return 0; }
  uint8_t v = r->p[0];
  r->p += 1; r->n -= 1;
  return v;
}

uint32_t rd_u32(struct rd *r) {
  if (r->n < 4) { r->bad = 1; return 0; }
  uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
  r->p += 4; r->n -= 4;
  return v;
}

uint64_t rd_u64(struct rd *r) {
  uint64_t lo = rd_u32(r);
  uint64_t hi = rd_u32(r);
  return lo | hi << 32;
}

char *rd_str(struct rd *r) {
  uint32_t len = rd_u32(r);
  if (r->bad || len > r->n) { r->bad = 1; return NULL; }
  char *s = malloc((size_t)len + 1);
  if (!s) die("out of memory");
  memcpy(s, r->p, len);
  s[len] = 0;
  r->p += len; r->n -= len;
  return s;
}

void wr_u8(struct wr *w, uint8_t v) { wr_bytes(w, &v, 1); }

void wr_u32(struct wr *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  wr_bytes(w, b, 4);
}

void wr_u64(struct wr *w, uint64_t v) {
  wr_u32(w, (uint32_t)v);
  wr_u32(w, (uint32_t)(v >> 32));
}

void wr_bytes(struct wr *w, const void *p, size_t n) {
  if (n > sizeof w->buf - w->n) n = sizeof w->buf - w->n; /* callers size their payloads below this */
  memcpy(w->buf + w->n, p, n);
  w->n += n;
}

/* Writes everything; a port write blocks while the host side is disconnected, by design. */
void send_frame(uint8_t type, uint32_t id, const void *payload, size_t n) {
  uint8_t h[TT_HEADER] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24), type,
                          (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
  struct iovec iov[2] = {{h, TT_HEADER}, {(void *)payload, n}};
  int cnt = n ? 2 : 1;
  struct iovec *v = iov;
  while (cnt > 0) {
    if (g_port < 0) return;
    ssize_t w = writev(g_port, v, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return;
      /* Full queue: wait for the host to read. No host on this port (HUP): the frame is lost, as its reader is. */
      struct pollfd pfd = {g_port, POLLOUT, 0};
      if (poll(&pfd, 1, 1000) < 0 || (pfd.revents & (POLLHUP | POLLERR))) return;
      continue;
    }
    while (cnt > 0 && (size_t)w >= v->iov_len) { w -= (ssize_t)v->iov_len; v++; cnt--; }
    if (cnt > 0) { v->iov_base = (uint8_t *)v->iov_base + w; v->iov_len -= (size_t)w; }
  }
}

void send_error(uint32_t id, int err, const char *what) {
  struct wr w = {.n = 0};
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  wr_u32(&w, (uint32_t)err);
  wr_u32(&w, (uint32_t)strlen(msg));
  wr_bytes(&w, msg, strlen(msg));
  send_frame(T_ERROR, id, w.buf, w.n);
}

/* Writes `text` to a control file (cgroup, proc); best effort: a missing controller only loses that limit. */
void write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, text, strlen(text)) < 0) { /* best effort: the cgroup may be gone */ }
  close(fd);
}

void send_ok(uint32_t id) { send_frame(T_OK, id, NULL, 0); }

void die(const char *what) {
  fprintf(stderr, "tartarus-guest: fatal: %s: %s\n", what, strerror(errno));
  sync();
  reboot(RB_POWER_OFF);
  _exit(1);
}
