/*
 * Native reference for the echo driver: N connections, closed loop, one
 * SIZE-byte message in flight per connection, one epoll loop in one thread.
 * Counts completed round trips (whole echo received) over D seconds after a
 * W-second warm-up and prints one line of JSON. No verification beyond
 * lengths: it is a speed yardstick, not a test.
 *
 *   gcc -O2 -o /tmp/c-echo-client scripts/c-echo-client.c
 *   /tmp/c-echo-client HOST PORT CONNECTIONS SECONDS [SIZE=64] [WARMUP=1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s HOST PORT CONNECTIONS SECONDS [SIZE] [WARMUP]\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), n = atoi(argv[3]);
  double secs = atof(argv[4]);
  int size = argc > 5 ? atoi(argv[5]) : 64;
  double warm = argc > 6 ? atof(argv[6]) : 1;
  if (n < 1 || size < 1 || secs <= 0) return 2;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return 2;
  char *msg = malloc(size), *buf = malloc(65536);
  memset(msg, 'x', size);
  int *got = calloc(n + 1024, sizeof(int)); /* bytes of the echo received, by fd */
  int ep = epoll_create1(0), one = 1;
  for (int i = 0; i < n; i++) {
    /* Blocking connects, then non-blocking IO: the connect phase is not measured. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); return 1; }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    if (fd >= n + 1024) { fprintf(stderr, "fd %d too high\n", fd); return 1; }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    if (send(fd, msg, size, MSG_NOSIGNAL) != size) { perror("send"); return 1; }
  }
  struct epoll_event evs[1024];
  double t0 = now(), ws = t0 + warm, we = ws + secs, c0 = 0;
  long ops = 0, errs = 0;
  int measuring = 0;
  for (;;) {
    double t = now();
    if (!measuring && t >= ws) { measuring = 1; ops = 0; c0 = cpu(); }
    if (t >= we) break;
    int k = epoll_wait(ep, evs, 1024, 10);
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      ssize_t r = recv(fd, buf, 65536, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        errs++;
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
        continue;
      }
      got[fd] += (int)r;
      while (got[fd] >= size) {
        got[fd] -= size;
        ops++;
        if (send(fd, msg, size, MSG_NOSIGNAL) != size) errs++;
      }
    }
  }
  double c1 = cpu();
  printf("{\"driver\":\"c-epoll\",\"connections\":%d,\"seconds\":%.3f,\"ops\":%ld,\"opsPerSec\":%.0f,\"cpuPercent\":%.1f,\"errors\":%ld}\n",
         n, secs, ops, ops / secs, 100 * (c1 - c0) / secs, errs);
  return 0;
}
