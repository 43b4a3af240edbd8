#ifndef TT_SNAPSHOT_H
#define TT_SNAPSHOT_H
/* Unpacks the tar at `tar` into `upper` as root of the user namespace at `userns` (NULL: as the caller); 0 or 125. */
int tt_seed(const char *tar, const char *upper, const char *userns);
/* What `tt_snapshot` writes: the overlay's upper; it with the layer's tmp/ as tmp/; the whole layer once the host says so. */
enum { TT_SNAPSHOT_UPPER = 0, TT_SNAPSHOT_HOLD = 1, TT_SNAPSHOT_WITH_TMP = 2 };
/* Execs tar of DIR/layer/upper to stdout in the mount namespace of PID (the sandbox's runtime process), as root of the user namespace kept at DIR/userns there (if any); returns only on failure.
 * `how`: a TT_SNAPSHOT_* (snapshot.c). */
int tt_snapshot(const char *pid, const char *dir, int how);
/* Moves the entries of `upper`/tmp (a seed's) into `tmp`, the sandbox's /tmp apart from the overlay; 0 or 125. */
int tt_tmp_apart(const char *upper, const char *tmp);
#endif
