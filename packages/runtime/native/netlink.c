/*
 * rtnetlink for `tt-layer netns`: what `ip link add … type veth peer … netns`, `ip addr add`,
 * `ip link set up` and `ip route add default` do, in the one process that made the namespace,
 * instead of two more processes (`ip -batch` on the host, `nsenter … ip -batch` inside): each
 * spawn from the host's large process cost more than the whole setup (network/sandbox.ts).
 */
#define _GNU_SOURCE
#include "netlink.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct req {
  struct nlmsghdr h;
  union {
    struct ifinfomsg link;
    struct ifaddrmsg addr;
    struct rtmsg route;
  } u;
  char attrs[1024];
};

static struct rtattr *attr(struct nlmsghdr *n, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

/* Closes a nested attribute opened with attr(n, type, NULL, 0). */
static void end_nest(struct nlmsghdr *n, struct rtattr *nest) {
  nest->rta_len = (unsigned short)((char *)n + NLMSG_ALIGN(n->nlmsg_len) - (char *)nest);
}

/* Sends one request and reads its acknowledgement; -1 with errno on refusal. */
static int talk(int fd, struct nlmsghdr *n) {
  static unsigned seq;
  n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  n->nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, n, n->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -1;
  char buf[8192];
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    if (len < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != n->nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err == 0) return 0;
      errno = -err;
      return -1;
    }
  }
}

static int nl_socket(void) {
  return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static void link_req(struct req *r, int type, int flags, int index) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = NLMSG_LENGTH(sizeof r->u.link);
  r->h.nlmsg_type = (unsigned short)type;
  r->h.nlmsg_flags = (unsigned short)flags;
  r->u.link.ifi_family = AF_UNSPEC;
  r->u.link.ifi_index = index;
}

/* The veth pair: host end `veth` on `bridge`, up unless `down`; `eth0` in `netns` (down). */
static int make_veth(int fd, int netns, const char *veth, const char *bridge, int down) {
  struct req r;
  link_req(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  r.u.link.ifi_flags = down ? 0 : IFF_UP;
  r.u.link.ifi_change = IFF_UP;
  attr(&r.h, IFLA_IFNAME, veth, strlen(veth) + 1);
  unsigned master = if_nametoindex(bridge);
  if (!master) return -1;
  attr(&r.h, IFLA_MASTER, &master, sizeof master);
  struct rtattr *info = attr(&r.h, IFLA_LINKINFO, NULL, 0);
  attr(&r.h, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = attr(&r.h, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = attr(&r.h, VETH_INFO_PEER, NULL, 0);
  /* The peer's own ifinfomsg, then its attributes. Not up yet: the kernel opens a peer before it
   * is paired (ENOTCONN); it is brought up inside the namespace. */
  struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};
  memcpy((char *)&r.h + NLMSG_ALIGN(r.h.nlmsg_len), &pi, sizeof pi);
  r.h.nlmsg_len = NLMSG_ALIGN(r.h.nlmsg_len) + (unsigned)NLMSG_ALIGN(sizeof pi);
  attr(&r.h, IFLA_IFNAME, "eth0", 5);
  attr(&r.h, IFLA_NET_NS_FD, &netns, sizeof netns);
  end_nest(&r.h, peer);
  end_nest(&r.h, data);
  end_nest(&r.h, info);
  return talk(fd, &r.h);
}

static int link_up(int fd, int index) {
  struct req r;
  link_req(&r, RTM_NEWLINK, 0, index);
  r.u.link.ifi_flags = IFF_UP;
  r.u.link.ifi_change = IFF_UP;
  return talk(fd, &r.h);
}

static int add_addr(int fd, int index, struct in_addr a, int prefix) {
  struct req r;
  memset(&r, 0, sizeof r);
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.u.addr);
  r.h.nlmsg_type = RTM_NEWADDR;
  r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  r.u.addr.ifa_family = AF_INET;
  r.u.addr.ifa_prefixlen = (unsigned char)prefix;
  r.u.addr.ifa_index = (unsigned)index;
  attr(&r.h, IFA_LOCAL, &a, sizeof a);
  attr(&r.h, IFA_ADDRESS, &a, sizeof a);
  return talk(fd, &r.h);
}

static int add_default_route(int fd, int index, struct in_addr gw) {
  struct req r;
  memset(&r, 0, sizeof r);
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.u.route);
  r.h.nlmsg_type = RTM_NEWROUTE;
  r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  r.u.route.rtm_family = AF_INET;
  r.u.route.rtm_table = RT_TABLE_MAIN;
  r.u.route.rtm_protocol = RTPROT_BOOT;
  r.u.route.rtm_scope = RT_SCOPE_UNIVERSE;
  r.u.route.rtm_type = RTN_UNICAST;
  attr(&r.h, RTA_GATEWAY, &gw, sizeof gw);
  attr(&r.h, RTA_OIF, &index, sizeof index);
  return talk(fd, &r.h);
}

int tt_net_attach(int netns, const char *veth, const char *bridge, const char *addr, int prefix, const char *gateway, int down, const char **what) {
  struct in_addr a, gw;
  *what = "address";
  if (inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, gateway, &gw) != 1 || prefix < 1 || prefix > 32) return errno = EINVAL, -1;
  int fd = nl_socket();
  *what = "netlink socket";
  if (fd < 0) return -1;
  *what = "veth pair on the bridge";
  int rc = make_veth(fd, netns, veth, bridge, down);
  close(fd);
  if (rc) return -1;
  /* Inside: this process is done with the host's namespace. */
  *what = "enter the network namespace";
  if (setns(netns, CLONE_NEWNET) != 0) return -1;
  fd = nl_socket();
  *what = "netlink socket in the namespace";
  if (fd < 0) return -1;
  int eth0 = (int)if_nametoindex("eth0");
  *what = "loopback up";
  if (link_up(fd, 1) != 0) goto fail;
  *what = "eth0 address";
  if (!eth0 || add_addr(fd, eth0, a, prefix) != 0) goto fail;
  *what = "eth0 up";
  if (link_up(fd, eth0) != 0) goto fail;
  *what = "default route";
  if (add_default_route(fd, eth0, gw) != 0) goto fail;
  close(fd);
  return 0;
fail:;
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}

/* Renames link `index` to `to`, a port of bridge `master`, up. The kernel renames before it
 * applies the master and the flags: the link is renamed while down, then joined and brought up. */
static int rename_up(int fd, int index, const char *to, unsigned master) {
  struct req r;
  link_req(&r, RTM_NEWLINK, 0, index);
  r.u.link.ifi_flags = IFF_UP;
  r.u.link.ifi_change = IFF_UP;
  attr(&r.h, IFLA_MASTER, &master, sizeof master);
  attr(&r.h, IFLA_IFNAME, to, strlen(to) + 1);
  return talk(fd, &r.h);
}

int tt_net_rename_up(const char *from, const char *to, const char *bridge, const char **what) {
  *what = "interface";
  int index = (int)if_nametoindex(from);
  if (!index) return -1;
  *what = "bridge";
  unsigned master = if_nametoindex(bridge);
  if (!master) return -1;
  *what = "netlink socket";
  int fd = nl_socket();
  if (fd < 0) return -1;
  /* Made again since the spare was, the bridge has lost its ports: it is joined again too. */
  *what = "rename, join the bridge and up";
  int rc = rename_up(fd, index, to, master);
  int e = errno;
  close(fd);
  errno = e;
  return rc;
}
