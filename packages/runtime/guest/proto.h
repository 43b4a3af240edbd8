/*
 * Tartarus in-sandbox agent: the framed protocol spoken with the host driver, and the pieces
 * shared by the agent's files. One agent serves every driver; what differs is the platform
 * (platform.c for microVMs: virtio serial ports, a cgroup per exec; container.c for runc and
 * runsc: the init's inherited stdin/stdout, then a root-only unix socket for a re-attaching host).
 *
 * Frame (both directions): u32 payload length (little endian), u8 type, u32 id, payload.
 * The id names an exec or a request; replies carry the id of what they answer. Every field in
 * a payload is fixed-size little endian or a length-prefixed byte string (u32 length + bytes).
 * argv and env travel as arrays of strings and go to execve() as they are: nothing is ever
 * parsed by a shell on either side. Keep in sync with src/drivers/microvm/protocol.ts.
 */
#ifndef TT_PROTO_H
#define TT_PROTO_H
#include <stddef.h>
#include <stdint.h>

#define TT_MAX_PAYLOAD (1u << 20)
/* Most entries a directory listing returns: past it the listing fails with E2BIG (the host says
 * to list it in parts with exec), so one listing never holds a node's memory or its link. */
#define TT_MAX_LIST_ENTRIES 10000u
#define TT_HEADER 9

enum {
  /* host -> guest */
  T_EXEC = 1,     /* u32 uid, u32 gid, u32 flags, u64 outLimit, str cwd, u32 argc, str*, u32 envc, str* */
  T_STDIN = 2,    /* raw bytes; an empty payload closes stdin */
  T_SIGNAL = 3,   /* u32 signo, u8 wholeTree */
  T_FREAD = 4,    /* str path -> DATA* then OK */
  T_FWRITE = 5,   /* u8 flags (1 first, 2 last), u32 mode, str path, raw bytes -> OK after last */
  T_FLIST = 6,    /* str path -> DATA* (entries) then OK */
  T_FREMOVE = 7,  /* u8 recursive, str path -> OK */
  T_STATS = 8,    /* -> OK(u64 cpuNs, u64 memBytes, u32 pids) */
  T_KILLALL = 9,  /* SIGKILL to every workload process -> OK */
  T_SHUTDOWN = 10,/* sync and power off */
  T_PING = 11,    /* -> OK */
  T_ATTACH = 12,  /* move exec `id` (and its later frames) to this port -> OK, or ERROR ENOENT */
  T_AUTH = 15,    /* raw secret: on a trusted port sets it (once); on another port proves it knows it -> OK */
  T_USER = 14,    /* u32 uid, u32 gid: file requests run as this user from now on (a warm sandbox handed out) -> OK */
  T_DEADLINE = 13,/* u64 ms from now (0: none), u64 grace ms: SIGTERM to the main process at it, SIGKILL to all after the grace, host or not -> OK */
  T_TERMINATE = 16,/* u64 grace ms: SIGTERM to every process but this init; the main's EXIT waits until all are gone, SIGKILL to all after the grace -> OK */
  T_CLOCK = 17,   /* u64 ms since the epoch: the wall clock is set to it (a microVM woken from hibernation) -> OK, or ERROR */
  /* guest -> host */
  T_READY = 64,   /* str version */
  T_STARTED = 65, /* u32 pid */
  T_STDOUT = 66,
  T_STDERR = 67,
  T_EXIT = 68,    /* i32 exitCode, u32 signal, u8 oom, u8 outTrunc, u8 errTrunc */
  T_OK = 69,
  T_ERROR = 70,   /* u32 errno, str message */
  T_DATA = 71,
};

#define EXEC_STDIN 1u
#define EXEC_GROUPS 2u /* u32 n, u32 gid* follow the env: supplementary groups */
#define EXEC_MAIN 4u   /* the sandbox's main process: the sandbox ends with it (containers) */
#define EXEC_IDLE 8u   /* with EXEC_MAIN and no argv: the agent's own idle process (no binary of the sandbox needed) */

/* A cursor over a received payload; a read past the end sets bad. */
struct rd {
  const uint8_t *p;
  size_t n;
  int bad;
};
uint8_t rd_u8(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
/* A NUL-terminated copy (malloc) of the next string; NULL when bad. */
char *rd_str(struct rd *r);

/* An outgoing payload under construction. */
struct wr {
  uint8_t buf[65536];
  size_t n;
};
void wr_u8(struct wr *w, uint8_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_u64(struct wr *w, uint64_t v);
void wr_bytes(struct wr *w, const void *p, size_t n);

/* Sends one frame to the host (blocking). */
void send_frame(uint8_t type, uint32_t id, const void *payload, size_t n);
void send_error(uint32_t id, int err, const char *what);
void send_ok(uint32_t id);
void write_text(const char *path, const char *text);

/* Host connections ("ports"): a restarted host takes a free one and re-attaches to its
 * processes (T_ATTACH), while an old connection may still be open. */
#define NPORTS 2

/* The platform (platform.c: microVM; container.c: runc/runsc). */
/* Boots, then fills ports[] (read fds) and ports_w[] (write fds; the same fd where one does both). */
void platform_boot(int argc, char **argv);
/* Loads the workload seccomp program from `path` (struct sock_filter[]); -1 with errno on failure. */
int exec_load_filter(const char *path);
/* Opens the ports that can be opened now; returns how many are open. */
int platform_open_ports(void);
/* A port's host went away. */
void platform_port_closed(int i);
/* Whether port `i` is the host's by construction (an inherited pipe, a virtio port); frames on
 * any other port are refused until it proves the secret (T_AUTH). */
int platform_port_trusted(int i);
/* Whether port `i` presented the secret; dropping one that did not frees it for the next host. */
int port_is_authenticated(int i);
void drop_port(int i);
/* An fd to poll for new ports (-1: none) and what to do when it is readable. */
extern int g_listen_fd;
void platform_accept(void);
/* Signals other than SIGCHLD the platform wants (0-terminated) and what to do on each. */
extern const int PLATFORM_SIGNALS[];
void platform_signal(int signo);
/* SIGKILL to every process of exec `pr`'s tree (the whole sandbox for the main process). */
struct proc;
void platform_kill_tree(struct proc *pr);
void platform_killall(void);
void platform_shutdown(void);
void platform_stats(uint32_t id);
/* The main process ended with wait status `status` and its EXIT was sent. */
void platform_main_exited(int status);
/* File requests run as the sandbox's user: between begin and end; begin returns 0, or an errno
 * (the request is then refused). */
int platform_files_begin(void);
void platform_files_end(void);
void platform_files_user(uint32_t uid, uint32_t gid);
/* Whether each exec gets its own cgroup (memory/pids accounting, OOM attribution, cgroup.kill). */
extern const int PLATFORM_EXEC_CGROUPS;
/* `tt-init attach`: relays stdin/stdout to a running init; returns the exit code. */
int platform_attach(void);
/* Forwards a signal to the main process's group, if there is one. */
void signal_main(int signo);
/* The deadline (agent.c): ms on the monotonic clock, 0 for none. */
void do_deadline(uint32_t id, struct rd *r);
/* Set once the deadline ended (or began ending) the main process. */
extern int g_deadline_fired;
long deadline_timeout(void);
void deadline_check(void);

/* Boot pieces of the microVM (init.c), shared with bare-init.c. */
void guest_boot(int ports[NPORTS]);
int open_ports(int ports[NPORTS]);
/* Boot pieces, shared with bare-init.c. */
/* Loads the modules named in `list` (one file name a line, dependencies first). */
void load_modules(const char *list);
/* Copies the value of `key=` on the kernel command line into `out`; 0 when it is not there. */
int cmdline_value(const char *key, char *out, size_t n);
/* Loopback up; eth0, the default route and /etc/resolv.conf from `tt.ip=`, `tt.gw=`, `tt.dns=` (net.c). */
void net_up(void);
void find_disk(const char *serial, char *dev, size_t n);
void must_mount(const char *src, const char *dst, const char *type, unsigned long fl, const char *data);
/* File requests, answered in full before returning. */
void file_request(uint8_t type, uint32_t id, struct rd *r);
/* Panics the guest (the host sees QEMU exit) with a message on the console. */
void die(const char *what);

/* The port replies go to: the one whose request is being handled (or a process's owner). */
extern int g_port;
/* Processes (exec.c). */
#define MAX_PROCS 256
/* After a process exits, how long its pipes may stay open (held by a background child) before EXIT is sent anyway. */
#define PIPE_GRACE_MS 200
struct proc {
  uint32_t id;
  int pid;
  int out, err, in;
  uint8_t *inbuf;
  size_t inlen, inoff;
  int inclose;
  uint64_t limit, outn, errn;
  int exited, status;
  long exitms;
  int owner;    /* index of the port that started (or last attached) it */
  int main;     /* the sandbox's main process (EXEC_MAIN) */
  int reported; /* EXIT built but its port was gone: kept for a later T_ATTACH */
  struct wr *exitmsg;
};
extern struct proc *procs[MAX_PROCS];
long now_ms(void);
struct proc *find_proc(uint32_t id);
void do_exec(uint32_t id, struct rd *r);
void do_stdin(struct proc *pr, struct rd *r);
void do_signal(uint32_t id, struct rd *r);
void do_attach(uint32_t id);
void pump(struct proc *pr, int *fd, uint64_t *count, uint8_t type);
void feed_stdin(struct proc *pr);
void finish(int slot);
void reap(void);
int terminating(void);
/* Path of exec `id`'s cgroup (microVM), or of a file in it. */
void cg_path(char *buf, size_t n, uint32_t id, const char *file);

/* Ports (agent.c). */
extern int ports[NPORTS];
extern int ports_w[NPORTS];
extern int cur_port;
void use_port(int i);
#endif
