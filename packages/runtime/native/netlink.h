/* Sandbox interfaces over rtnetlink, for `tt-layer netns` (netlink.c). */
#ifndef TT_NETLINK_H
#define TT_NETLINK_H

/*
 * Gives the network namespace open as `netns` its interface: a veth pair whose host end `veth`
 * (in the caller's namespace) is a port of `bridge`, up (down with `down`: a spare's, which
 * carries nothing until it is renamed for its sandbox), and whose other end is `eth0` in the
 * namespace with `addr`/`prefix`, up, with a default route through `gateway`; loopback up too.
 * Returns 0, or -1 with errno and `*what` naming the step that failed.
 */
int tt_net_attach(int netns, const char *veth, const char *bridge, const char *addr, int prefix, const char *gateway, int down, const char **what);

/* Renames the (down) link `from` to `to`, makes it a port of `bridge` and brings it up. Returns 0, or -1 with errno and `*what`. */
int tt_net_rename_up(const char *from, const char *to, const char *bridge, const char **what);

#endif
