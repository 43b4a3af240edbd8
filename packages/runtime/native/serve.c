/*
 * `tt-layer serve`: a small process the host keeps running for the short operations on its
 * sandboxes' create path (a network namespace, its rules). The host is a large process: each
 * spawn from it costs milliseconds of its own (single) thread, where a fork from this one costs
 * tens of microseconds and runs beside it.
 *
 * Requests come one at a time on stdin, each answered before the next is read:
 *   u32 length, then the arguments, each NUL-terminated;
 *   u32 length, then the bytes the operation gets on its stdin.
 * The answer on stdout: i32 status (the exit code, or 128 + the signal), u32 length, then what
 * the operation wrote on stdout and stderr (its last 64 KiB). Integers are little-endian.
 *
 * It dies with the host (PR_SET_PDEATHSIG; the host names its pid, so that one already gone is
 * noticed even when it was pid 1) and ends when its stdin does.
 */
#define _GNU_SOURCE
#include "serve.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST (1u << 20)
#define MAX_INPUT (16u << 20)
#define MAX_OUTPUT (64u << 10)

static int read_all(int fd, void *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t got = read(fd, (char *)buf + off, n - off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    off += (size_t)got;
  }
  return 0;
}

static int write_all(int fd, const void *buf, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t put = write(fd, (const char *)buf + off, n - off);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    off += (size_t)put;
  }
  return 0;
}

static int read_u32(uint32_t *v) {
  unsigned char b[4];
  if (read_all(0, b, 4)) return -1;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return 0;
}

static void put_u32(unsigned char *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* Feeds `input` to `in` and collects `out` (the last MAX_OUTPUT bytes) until it ends. */
static size_t exchange(int in, const char *input, size_t inlen, int out, char *buf) {
  size_t sent = 0, kept = 0;
  if (inlen == 0) close(in), in = -1;
  for (;;) {
    struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
    if (poll(p, in >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in >= 0 && p[1].revents) {
      ssize_t put = write(in, input + sent, inlen - sent);
      if (put > 0) sent += (size_t)put;
      if (put < 0 && errno != EINTR && errno != EAGAIN) sent = inlen; /* it stopped reading */
      if (sent == inlen) close(in), in = -1;
    }
    if (p[0].revents) {
      char chunk[4096];
      ssize_t got = read(out, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      if (kept + (size_t)got > MAX_OUTPUT) {
        size_t drop = kept + (size_t)got - MAX_OUTPUT;
        if (drop > kept) drop = kept;
        memmove(buf, buf + drop, kept - drop);
        kept -= drop;
      }
      size_t take = (size_t)got > MAX_OUTPUT ? MAX_OUTPUT : (size_t)got;
      memcpy(buf + kept, chunk + got - take, take);
      kept += take;
    }
  }
  if (in >= 0) close(in);
  close(out);
  return kept;
}

/* Runs one request in a child; returns its status. */
static int one(const char *argv0, int (*run)(int, char **), char **args, int n, const char *input, size_t inlen, char *out, size_t *outlen) {
  int in[2], res[2];
  if (pipe2(in, O_CLOEXEC)) return 125;
  if (pipe2(res, O_CLOEXEC)) {
    close(in[0]);
    close(in[1]);
    return 125;
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int k = 0; k < 2; k++) close(in[k]), close(res[k]);
    return 125;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* not inherited across fork: an operation dies with its server too */
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    dup2(res[1], 1);
    dup2(res[1], 2);
    if (!strcmp(args[0], "exec") && n > 1) {
      execvp(args[1], args + 1);
      _exit(127);
    }
    args[-1] = (char *)argv0;
    _exit(run(n + 1, args - 1));
  }
  close(in[0]);
  close(res[1]);
  /* Written as the child reads, never blocking on it while its output waits to be read. */
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  *outlen = exchange(in[1], input, inlen, res[0], out);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int tt_serve(const char *argv0, pid_t host, int (*run)(int, char **)) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != host) return 0; /* the host is already gone */
  signal(SIGPIPE, SIG_IGN);
  char *out = malloc(MAX_OUTPUT);
  if (!out) return 125;
  for (;;) {
    uint32_t len, inlen;
    if (read_u32(&len)) return 0;
    if (len == 0 || len > MAX_REQUEST) return 64;
    /* One slot before the arguments for argv[0], one after for the NULL. */
    char *buf = malloc(len + 1);
    size_t n = 1;
    if (!buf || read_all(0, buf, len)) return 64;
    buf[len] = 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == 0;
    char **argv = calloc(n + 2, sizeof *argv);
    if (!argv || read_u32(&inlen) || inlen > MAX_INPUT) return 64;
    char *input = malloc(inlen + 1);
    if (!input || read_all(0, input, inlen)) return 64;
    int k = 1;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) argv[k++] = buf + i;
    size_t outlen = 0;
    int status = one(argv0, run, argv + 1, k - 1, input, inlen, out, &outlen);
    unsigned char head[8];
    put_u32(head, (uint32_t)status);
    put_u32(head + 4, (uint32_t)outlen);
    free(buf);
    free(argv);
    free(input);
    if (write_all(1, head, 8) || write_all(1, out, outlen)) return 0;
  }
}
