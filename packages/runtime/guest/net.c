/*
 * The guest's network, set up by the agent at boot (the Debian cloud kernel has no `ip=`
 * autoconfiguration). Loopback always. With `tt.ip=ADDR/PREFIX` on the kernel command line (and
 * `tt.gw=GATEWAY`, `tt.dns=RESOLVER`: drivers/microvm/network.ts passes the address the host's
 * network/sandbox.ts allocated), eth0 — the virtio-net device, whose modules init.c loaded —
 * gets that address, a default route through the gateway, and /etc/resolv.conf names the
 * resolver. IPv4 only: IPv6 is off on eth0 (the host's bridge drops it anyway). Any failure
 * panics the guest: a sandbox that asked for a network never runs without the one it was given.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "proto.h"

static int set_up(int s, const char *name) {
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static in_addr_t parse_ip(const char *text, const char *what) {
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1) {
    errno = EINVAL;
    die(what);
  }
  return a.s_addr;
}

/* SIOCSIFADDR or SIOCSIFNETMASK of eth0. */
static void set_addr(int s, unsigned long req, in_addr_t a, const char *what) {
  struct ifreq ifr = {0};
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = a};
  snprintf(ifr.ifr_name, IFNAMSIZ, "eth0");
  memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  if (ioctl(s, req, &ifr) != 0) die(what);
}

static void default_route(int s, in_addr_t gw) {
  struct rtentry rt = {0};
  struct sockaddr_in any = {.sin_family = AF_INET}, via = {.sin_family = AF_INET, .sin_addr.s_addr = gw};
  memcpy(&rt.rt_dst, &any, sizeof any);
  memcpy(&rt.rt_genmask, &any, sizeof any);
  memcpy(&rt.rt_gateway, &via, sizeof via);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = "eth0";
  if (ioctl(s, SIOCADDRT, &rt) != 0) die("default route");
}

/* A regular file in the sandbox's own layer (a template's symlink, to systemd-resolved's stub say, is replaced). */
static void write_resolv_conf(const char *resolver) {
  char text[128];
  int n = snprintf(text, sizeof text, "nameserver %s\noptions ndots:0\n", resolver);
  mkdir("/etc", 0755);
  unlink("/etc/resolv.conf");
  int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, text, n) != n) die("/etc/resolv.conf");
  close(fd);
}

/* Waits for eth0 (~5 s): virtio-net registers it while its module loads, but never wait on a guess. */
static void wait_for_eth0(void) {
  for (int tries = 0; tries < 2500 && if_nametoindex("eth0") == 0; tries++) {
    struct timespec ts = {0, 2000000L};
    nanosleep(&ts, NULL);
  }
  if (if_nametoindex("eth0") == 0) die("no eth0 (virtio-net)");
}

void net_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  /* Workloads talk to themselves over 127.0.0.1 with or without a network. */
  set_up(s, "lo");
  char ip[64], value[64];
  if (!cmdline_value("tt.ip", ip, sizeof ip)) {
    close(s);
    return;
  }
  char *slash = strchr(ip, '/');
  int prefix = slash ? atoi(slash + 1) : 32;
  if (slash) *slash = 0;
  if (prefix < 1 || prefix > 32) {
    errno = EINVAL;
    die("tt.ip prefix");
  }
  wait_for_eth0();
  /* Before the link is up, so that it never gets (or announces) a link-local IPv6 address. */
  write_text("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", "1");
  set_addr(s, SIOCSIFADDR, parse_ip(ip, "tt.ip"), "eth0 address");
  set_addr(s, SIOCSIFNETMASK, htonl(0xffffffffu << (32 - prefix)), "eth0 netmask");
  if (set_up(s, "eth0") != 0) die("eth0 up");
  if (cmdline_value("tt.gw", value, sizeof value)) default_route(s, parse_ip(value, "tt.gw"));
  if (cmdline_value("tt.dns", value, sizeof value)) {
    parse_ip(value, "tt.dns");
    write_resolv_conf(value);
  }
  close(s);
}
