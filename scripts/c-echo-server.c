/*
 * Native reference server for the load-side yardstick: a single-threaded
 * epoll echo server in C (level-triggered, non-blocking, every byte sent
 * back). A server this cheap leaves the client as the ceiling, which is
 * what scripts/compare-echo-drivers.ts wants to compare.
 *
 *   gcc -O2 -o /tmp/iomodels-c-echo-server scripts/c-echo-server.c
 *   /tmp/iomodels-c-echo-server PORT        (prints "listening on 127.0.0.1:PORT")
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 1024

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0, one = 1;
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) { perror("listen"); return 1; }
  socklen_t len = sizeof sa;
  getsockname(lfd, (struct sockaddr *)&sa, &len);
  printf("listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
  fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[MAX_EVENTS];
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static char buf[65536];
  for (;;) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        close(fd);
        continue;
      }
      /* Echo every byte; a short send blocks briefly rather than queueing (a yardstick, not a server). */
      for (ssize_t off = 0; off < r;) {
        ssize_t w = send(fd, buf + off, r - off, MSG_NOSIGNAL);
        if (w < 0) {
          if (errno == EAGAIN || errno == EINTR) continue;
          break;
        }
        off += w;
      }
    }
  }
}
