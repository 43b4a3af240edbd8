/* `tt-layer serve`: short host operations run on request, each in a child forked here (serve.c). */
#ifndef TT_SERVE_H
#define TT_SERVE_H

#include <sys/types.h>

/*
 * Serves requests on stdin until it ends, answering each on stdout (the framing is in serve.c),
 * for as long as its parent is `host`.
 * A request is either `exec PROGRAM ARGS...` or a subcommand handed to `run(argc, argv)` (argv[0]
 * is `argv0`) in the child, whose exit status is the answer. Returns 0 at the end of stdin.
 */
int tt_serve(const char *argv0, pid_t host, int (*run)(int argc, char **argv));

#endif
