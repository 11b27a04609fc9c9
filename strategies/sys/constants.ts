/**
 * Platform constants and struct layouts for the libc calls in libc.ts.
 *
 * Values come from the system headers of each platform; they are ABI, so a
 * wrong number here is a silent bug, not a compile error. Linux x64 and
 * arm64 share the generic socket ABI (asm-generic) except for the layout of
 * struct epoll_event, which is packed (12 bytes) only on x86-64.
 */

export type SysPlatform = 'linux' | 'darwin' | 'freebsd' | 'unsupported';

export const PLATFORM: SysPlatform =
  process.platform === 'linux' || process.platform === 'darwin' || process.platform === 'freebsd'
    ? process.platform
    : 'unsupported';

const linux = PLATFORM === 'linux';
const bsd = PLATFORM === 'darwin' || PLATFORM === 'freebsd';

/** Bits in one fd_set; select() must never be given an fd at or above it. */
export const FD_SETSIZE = 1024;
/** Bytes in one fd_set (1024 bits), the same on Linux and the BSDs. */
export const FD_SET_BYTES = FD_SETSIZE / 8;

export const AF_INET = 2;
export const AF_INET6 = linux ? 10 : PLATFORM === 'darwin' ? 30 : 28;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
/** Linux only: accept4()/socket() type flags. 0 elsewhere (set with fcntl). */
export const SOCK_NONBLOCK = linux ? 0o4000 : 0;
export const SOCK_CLOEXEC = linux ? 0o2000000 : 0;

export const SOL_SOCKET = linux ? 1 : 0xffff;
export const SO_REUSEADDR = linux ? 2 : 0x0004;
export const SO_ERROR = linux ? 4 : 0x1007;
export const SO_SNDBUF = linux ? 7 : 0x1001;
export const SO_RCVBUF = linux ? 8 : 0x1002;
export const SO_RCVTIMEO = linux ? 20 : 0x1006;
export const SO_SNDTIMEO = linux ? 21 : 0x1005;
export const SO_LINGER = linux ? 13 : 0x0080;
/** BSD only: the per-socket way to avoid SIGPIPE (no MSG_NOSIGNAL there). */
export const SO_NOSIGPIPE = PLATFORM === 'darwin' ? 0x1022 : 0;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;

/** send() flag: EPIPE instead of SIGPIPE. Node ignores SIGPIPE anyway. */
export const MSG_NOSIGNAL = linux ? 0x4000 : PLATFORM === 'freebsd' ? 0x20000 : 0;
export const MSG_DONTWAIT = linux ? 0x40 : 0x80;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** fcntl: duplicate to the lowest free fd >= arg. */
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_SETOWN = linux ? 8 : 6;
/** Linux: F_SETOWN with a struct f_owner_ex, so the owner can be one thread (F_OWNER_TID). */
export const F_SETOWN_EX = 15;
export const F_GETOWN_EX = 16;
export const F_OWNER_TID = 0;
export const F_OWNER_PID = 1;
export const SIGIO = linux ? 29 : 23;
export const SIG_BLOCK = linux ? 0 : 1;
export const SIG_UNBLOCK = linux ? 1 : 2;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = linux ? 0o4000 : 0x0004;
export const O_ASYNC = linux ? 0o20000 : 0x0040;
export const O_CLOEXEC = linux ? 0o2000000 : PLATFORM === 'darwin' ? 0x1000000 : 0x100000;

// poll(2): identical on Linux and the BSDs.
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
/** struct pollfd { int fd; short events; short revents; } */
export const POLLFD_SIZE = 8;

// epoll(7), Linux only.
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000 | 0;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLL_CLOEXEC = 0o2000000;
/**
 * struct epoll_event { uint32_t events; epoll_data_t data; } is declared
 * __attribute__((packed)) on x86-64 only: 12 bytes with data at offset 4;
 * elsewhere it is 16 bytes with data at offset 8.
 */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

// kqueue(2), BSD/macOS only.
export const EVFILT_READ = -1;
export const EVFILT_WRITE = -2;
export const EV_ADD = 0x0001;
export const EV_DELETE = 0x0002;
export const EV_ENABLE = 0x0004;
export const EV_DISABLE = 0x0008;
export const EV_CLEAR = 0x0020;
export const EV_ERROR = 0x4000;
export const EV_EOF = 0x8000;
/**
 * struct kevent: macOS { uintptr_t ident; int16_t filter; uint16_t flags;
 * uint32_t fflags; intptr_t data; void *udata; } = 32 bytes; FreeBSD 12+
 * appends uint64_t ext[4] = 64 bytes. Offsets below are shared.
 */
export const KEVENT_SIZE = PLATFORM === 'freebsd' ? 64 : 32;
export const KEVENT_IDENT_OFFSET = 0;
export const KEVENT_FILTER_OFFSET = 8;
export const KEVENT_FLAGS_OFFSET = 10;
export const KEVENT_DATA_OFFSET = 16;
export const KEVENT_UDATA_OFFSET = 24;

/** Linux eventfd flags (= O_NONBLOCK / O_CLOEXEC). */
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

/** Whether sockaddr starts with a length byte (BSD) or not (Linux). */
export const SOCKADDR_HAS_LEN = bsd;
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
