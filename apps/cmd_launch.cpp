// `prismer launch --nproc N -- <prismer args...>`: torchrun's single-node part. Starts N copies of this binary
// with MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK (and LOCAL_WORLD_SIZE) set, prefixes each line
// they print with `[rank k]`, and when one of them fails stops the others and exits with its status.
#include "commands.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace prismer::cli {

namespace {

const char* kLaunchUsage = R"(usage: prismer launch --nproc N [--master-port P] -- <prismer command and arguments>

Starts N processes of this prismer on this machine, as torchrun does: each gets MASTER_ADDR=127.0.0.1,
MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE, which `prismer run` (the train pipeline) reads to
join one data-parallel group. Their output is prefixed with [rank k]. When one process fails, the others are
stopped and launch exits with the failed one's status.

  --nproc N          processes (>= 1)
  --master-port P    the rendezvous port (default: a free one)

example: prismer launch --nproc 2 -- run configs/train_caption.yaml --set sharding=full_shard
)";

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 29500;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 29500;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

int parse_count(const std::string& flag, const std::string& value, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < lo || v > hi)
    throw std::invalid_argument(flag + " " + value + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v);
}

// One child's output stream: bytes in, whole lines out with the rank prefix. A progress line redrawn with '\r'
// is forwarded segment by segment, so it keeps redrawing.
struct Stream {
  int fd = -1;
  FILE* out = nullptr;
  std::string prefix, pending;
  void emit(bool flush_all) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (pending[i] != '\n' && pending[i] != '\r') continue;
      std::fputs(prefix.c_str(), out);
      std::fwrite(pending.data() + start, 1, i + 1 - start, out);
      start = i + 1;
    }
    pending.erase(0, start);
    if (flush_all && !pending.empty()) {
      std::fputs(prefix.c_str(), out);
      std::fwrite(pending.data(), 1, pending.size(), out);
      std::fputc('\n', out);
      pending.clear();
    }
    std::fflush(out);
  }
};

struct Child {
  pid_t pid = -1;
  bool running = false;
  int status = 0;
};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

int launch_command(int argc, char** argv) {
  int nproc = 0, port = 0;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kLaunchUsage;
      return kOk;
    }
    auto value = [&](const std::string& flag) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--nproc" || a == "--nproc_per_node" || a == "--nproc-per-node") {
        nproc = parse_count(a, value(a), 1, 1024);
      } else if (a == "--master-port" || a == "--master_port") {
        port = parse_count(a, value(a), 1, 65535);
      } else {
        std::cerr << "prismer launch: unknown option '" << a << "' (the prismer command follows '--')\n\n" << kLaunchUsage;
        return kUsage;
      }
    } catch (const std::invalid_argument& e) {
      std::cerr << "prismer launch: " << e.what() << "\n";
      return kUsage;
    }
  }
  if (nproc < 1 || i >= argc) {
    std::cerr << (nproc < 1 ? "prismer launch: --nproc N is required\n\n" : "prismer launch: no prismer command after '--'\n\n")
              << kLaunchUsage;
    return kUsage;
  }
  if (port == 0) port = free_port();
  std::vector<char*> child_argv;
  child_argv.push_back(const_cast<char*>("prismer"));
  for (int k = i; k < argc; ++k) child_argv.push_back(argv[k]);
  child_argv.push_back(nullptr);

  std::vector<Child> children(static_cast<std::size_t>(nproc));
  std::vector<Stream> streams;
  for (int rank = 0; rank < nproc; ++rank) {
    int out_pipe[2], err_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // launch killed: its ranks do not linger
      ::dup2(out_pipe[1], STDOUT_FILENO);
      ::dup2(err_pipe[1], STDERR_FILENO);
      for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
      for (const Stream& s : streams) ::close(s.fd);  // the siblings' pipes
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::execv("/proc/self/exe", child_argv.data());
      std::fprintf(stderr, "prismer launch: cannot start %s: %s\n", child_argv[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    const std::string prefix = "[rank " + std::to_string(rank) + "] ";
    streams.push_back({out_pipe[0], stdout, prefix, {}});
    streams.push_back({err_pipe[0], stderr, prefix, {}});
    children[static_cast<std::size_t>(rank)] = {pid, true, 0};
  }
  std::cerr << "prismer launch: " << nproc << " process(es), rendezvous 127.0.0.1:" << port << "\n";

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  int failed_rank = -1, exit_code = kOk;
  bool stopping = false;
  auto stop_all = [&](int sig) {
    for (auto& c : children)
      if (c.running) ::kill(c.pid, sig);
  };
  std::chrono::steady_clock::time_point kill_deadline{};
  std::size_t open_streams = streams.size();
  std::size_t running = children.size();
  while (running > 0 || open_streams > 0) {
    if (g_signal != 0 && !stopping) {  // ^C: pass it on, then stop waiting politely
      stopping = true;
      exit_code = 128 + g_signal;
      stop_all(g_signal);
      kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t s = 0; s < streams.size(); ++s)
      if (streams[s].fd >= 0) {
        fds.push_back({streams[s].fd, POLLIN, 0});
        which.push_back(s);
      }
    if (!fds.empty() && ::poll(fds.data(), fds.size(), 200) > 0) {
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        Stream& s = streams[which[k]];
        char buf[8192];
        const ssize_t n = ::read(s.fd, buf, sizeof buf);
        if (n > 0) {
          s.pending.append(buf, static_cast<std::size_t>(n));
          s.emit(false);
        } else if (n == 0 || errno != EINTR) {
          s.emit(true);
          ::close(s.fd);
          s.fd = -1;
          --open_streams;
        }
      }
    } else if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (std::size_t r = 0; r < children.size(); ++r) {
      Child& c = children[r];
      if (!c.running || ::waitpid(c.pid, &c.status, WNOHANG) != c.pid) continue;
      c.running = false;
      --running;
      const bool ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
      if (!ok && failed_rank < 0 && !stopping) {
        failed_rank = static_cast<int>(r);
        exit_code = WIFEXITED(c.status) ? WEXITSTATUS(c.status) : 128 + WTERMSIG(c.status);
        std::cerr << "prismer launch: rank " << r << " failed (" << describe(c.status) << "); stopping the others\n";
        stopping = true;
        stop_all(SIGTERM);
        kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      }
    }
    if (stopping && running > 0 && std::chrono::steady_clock::now() > kill_deadline) {
      stop_all(SIGKILL);
      kill_deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
    }
  }
  if (failed_rank < 0 && exit_code == kOk) std::cerr << "prismer launch: all " << nproc << " process(es) finished\n";
  return exit_code == 0 && failed_rank >= 0 ? kFailure : exit_code;
}

}  // namespace prismer::cli
