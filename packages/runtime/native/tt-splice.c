/*
 * tt-splice: relays the bytes of two connected sockets both ways inside the kernel (splice(2)
 * through a pipe per direction), so that a port proxy's bulk traffic never passes through a
 * JavaScript buffer.
 *
 *   tt-splice PPID   fd 0 = socket A, fd 1 = socket B, fd 3 = bytes for B first, fd 4 = bytes for A first
 *
 * The host hands a connection over once it carries real traffic (network/relay.ts): what it had
 * read but not yet written comes in on fds 3 and 4 (read to their end first, and sent through the
 * same pipes before anything of the sockets', so that the order of the bytes holds). Then each direction moves until its
 * source ends; its destination is then shut for writing (half-close passes through). It exits
 * when both directions have ended (status 0) or either socket fails (status 1). At exit it
 * writes "A_TO_B B_TO_A\n" — the bytes each way, preambles included — on fd 2.
 *
 * It dies with the process that started it (PR_SET_PDEATHSIG; PPID names it, so that one that is
 * already gone is noticed, even when it was pid 1), so a crashed proxy leaves no relay behind;
 * its sockets then close, as the proxy's own would have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Pipe buffer per direction: larger pipes mean fewer splice calls per MiB. */
#define PIPE_BYTES (1 << 20)

struct dir {
  int from, to;
  int pipe[2];
  size_t queued; /* bytes in the pipe */
  char *pre;     /* bytes to send before any of the source's (the host read them first) */
  size_t prelen, preoff;
  int full;      /* the pipe took no more (it fills by pages, not bytes): wait for output */
  int eof;       /* the source has ended */
  int done;      /* ... and the pipe is empty, the destination shut for writing */
  unsigned long long bytes;
};

static void report_and_exit(struct dir *ab, struct dir *ba, int status) {
  dprintf(2, "%llu %llu\n", ab->bytes, ba->bytes);
  _exit(status);
}

/* Reads fd to its end into a heap buffer. */
static char *slurp(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (n == cap) {
      char *bigger = realloc(buf, cap *= 2);
      if (!bigger) return free(buf), NULL;
      buf = bigger;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      return free(buf), NULL;
    }
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return buf;
}

/* A direction from `from` to `to`, whose first bytes are the preamble read from `pre_fd`. */
static int open_dir(struct dir *d, int from, int to, int pre_fd) {
  d->from = from;
  d->to = to;
  if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
  fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_BYTES); /* best effort: the default 64 KiB works too */
  d->pre = slurp(pre_fd, &d->prelen);
  return d->pre ? 0 : -1;
}

/* Feeds the rest of the preamble into the pipe; 1 when some went in. */
static int feed_preamble(struct dir *d) {
  if (d->preoff == d->prelen) return 0;
  ssize_t n = write(d->pipe[1], d->pre + d->preoff, d->prelen - d->preoff);
  if (n <= 0) return 0;
  d->preoff += (size_t)n;
  d->queued += (size_t)n;
  return 1;
}

/*
 * Moves what can move now — in and out in turn until neither side can take more, so that a bulk
 * transfer costs few polls — and returns -1 when a socket failed.
 */
static int step(struct dir *d, short from_events, short to_events) {
  unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  int can_in = !d->eof && (from_events & (POLLIN | POLLHUP | POLLERR));
  int can_out = (to_events & (POLLOUT | POLLHUP | POLLERR)) != 0 || d->preoff < d->prelen;
  for (int moved = 1; moved;) {
    moved = feed_preamble(d);
    if (can_in && !d->full && !d->eof && d->preoff == d->prelen && d->queued < PIPE_BYTES) {
      ssize_t n = splice(d->from, NULL, d->pipe[1], NULL, PIPE_BYTES - d->queued, flags);
      if (n > 0) d->queued += (size_t)n, moved = 1;
      else if (n == 0) d->eof = 1;
      else if (errno == EAGAIN) {
        can_in = 0;
        /* With bytes in the pipe this may be the pipe, full by pages: wait until some go out. */
        if (d->queued > 0) d->full = 1;
      } else if (errno != EINTR) return -1;
    }
    if ((can_out || moved) && d->queued > 0) {
      ssize_t n = splice(d->pipe[0], NULL, d->to, NULL, d->queued, flags);
      if (n > 0) {
        d->queued -= (size_t)n;
        d->bytes += (unsigned long long)n;
        d->full = 0;
        moved = 1;
      } else if (n < 0 && errno == EAGAIN) can_out = 0;
      else if (n < 0 && errno != EINTR) return -1;
    }
  }
  if (d->eof && d->queued == 0 && d->preoff == d->prelen && !d->done) {
    shutdown(d->to, SHUT_WR);
    d->done = 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The proxy that started it (named, as it may be pid 1) is already gone: so are its tunnels. */
  if (argc < 2 || getppid() != (pid_t)atol(argv[1])) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct dir ab = {0}, ba = {0};
  for (int fd = 0; fd <= 1; fd++) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (open_dir(&ab, 0, 1, 3) < 0 || open_dir(&ba, 1, 0, 4) < 0) report_and_exit(&ab, &ba, 1);
  /* The preambles go into the pipes first (the rest as room comes): each then waits for output. */
  feed_preamble(&ab);
  feed_preamble(&ba);
  while (!(ab.done && ba.done)) {
    /* Per socket: read when its direction's pipe has room, write when the other's has bytes. */
    struct pollfd p[2] = {{.fd = 0}, {.fd = 1}};
    if (!ab.eof && !ab.full && ab.preoff == ab.prelen && ab.queued < PIPE_BYTES) p[0].events |= POLLIN;
    if (!ba.eof && !ba.full && ba.preoff == ba.prelen && ba.queued < PIPE_BYTES) p[1].events |= POLLIN;
    if (ab.queued > 0) p[1].events |= POLLOUT;
    if (ba.queued > 0) p[0].events |= POLLOUT;
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      report_and_exit(&ab, &ba, 1);
    }
    if (step(&ab, p[0].revents, p[1].revents) < 0 || step(&ba, p[1].revents, p[0].revents) < 0) report_and_exit(&ab, &ba, 1);
    /* A socket reset with nothing left to move: nothing more can pass. */
    if (((p[0].revents | p[1].revents) & POLLERR) && ab.queued == 0 && ba.queued == 0) {
      int err = 0;
      socklen_t len = sizeof err;
      for (int fd = 0; fd <= 1; fd++)
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) report_and_exit(&ab, &ba, 1);
    }
  }
  report_and_exit(&ab, &ba, 0);
}
