#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H
/* Unpacks the tar at `tar` into `upper` as root of the user namespace at `userns` (NULL: as the caller); 0 or 125. */
int tt_seed(const char *tar, const char *upper, const char *userns);
/* Execs tar of DIR/layer/upper to stdout in the mount namespace of PID (the sandbox's runtime process), as root of the user namespace kept at DIR/userns there (if any); returns only on failure.
 * `hold`: the whole layer (upper/, tmp/), once the host says so on stdin (snapshot.c). */
int tt_snapshot(const char *pid, const char *dir, int hold);
#endif
