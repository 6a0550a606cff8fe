// LD_PRELOAD shim for the librdkafka mock cluster: sets TCP_NODELAY on every
// accepted connection, as a real Kafka broker does (SocketServer:
// setTcpNoDelay(true)). librdkafka 2.0.2's mock leaves Nagle on, so a small
// response written while the previous one is unacknowledged waits for the
// client's delayed ACK, i.e. for its next request (about 1 ms at 5,000 msg/s)
// or the delayed-ACK timer (about 40 ms). See bench/micro/FINDINGS.md.
// bench/ensure.mjs builds it into .cache/bench/mock-nodelay.so and
// bench/lib/brokers.mjs startMock() preloads it (unless --mock-nagle);
// bench/micro/profile-send.mjs builds its own copy when MOCK_NODELAY=1.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static void nodelay(int fd) { if (fd >= 0) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); } }
int accept(int s, struct sockaddr *a, socklen_t *l) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = dlsym(RTLD_NEXT, "accept");
  int fd = real(s, a, l); nodelay(fd); return fd;
}
int accept4(int s, struct sockaddr *a, socklen_t *l, int f) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, a, l, f); nodelay(fd); return fd;
}
