// Runs a piece of a test as a process that cannot write a given folder: a chmod a-w for an ordinary
// user; for root (who writes anywhere, as in most containers) a forked child that drops to nobody.
#pragma once

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>

namespace harness::db::testing {

struct ChildResult {
  int exit_code = -1;
  std::string output;  // what the child wrote to its message pipe
};

// What the child's body gets: `say` writes to the parent's ChildResult::output; `wait_for_parent`
// lets the parent run its `while_child_waits` (e.g. write the database) and returns after it.
struct Child {
  std::function<void(const std::string&)> say;
  std::function<void()> wait_for_parent;
};

// Runs `body` in a forked child that cannot write `folder` (made unwritable for the child's whole
// run: mode 0555, and the child drops to uid/gid 65534 when this process is root). `body` returns
// the child's exit code; an exception is exit code 99 with its message. The folder gets its mode
// back afterwards. The child only reads: the caller must have made the files it needs readable by
// everyone (the default umask does).
inline ChildResult run_without_write_access(const std::string& folder, const std::function<int(const Child&)>& body,
                                            const std::function<void()>& while_child_waits = {}) {
  namespace fs = std::filesystem;
  const auto old_perms = fs::status(folder).permissions();
  fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  int message[2], up[2], down[2];
  if (::pipe(message) != 0 || ::pipe(up) != 0 || ::pipe(down) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(message[0]);
    ::close(up[0]);
    ::close(down[1]);
    Child child;
    child.say = [&](const std::string& text) {
      [[maybe_unused]] const auto n = ::write(message[1], text.data(), text.size());
    };
    child.wait_for_parent = [&] {
      char byte = 1;
      [[maybe_unused]] const auto w = ::write(up[1], &byte, 1);
      [[maybe_unused]] const auto r = ::read(down[0], &byte, 1);
    };
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      child.say("could not drop to uid 65534");
      ::_exit(98);
    }
    int code = 97;
    try {
      code = body(child);
    } catch (const std::exception& e) {
      child.say(e.what());
      code = 99;
    }
    ::_exit(code);
  }
  ::close(message[1]);
  ::close(up[1]);
  ::close(down[0]);
  char byte = 0;
  if (::read(up[0], &byte, 1) == 1) {  // the child waits (EOF: it ended without waiting)
    if (while_child_waits) while_child_waits();
    [[maybe_unused]] const auto w = ::write(down[1], &byte, 1);
  }
  ChildResult result;
  char buf[4096];
  for (ssize_t n; (n = ::read(message[0], buf, sizeof buf)) > 0;) result.output.append(buf, static_cast<std::size_t>(n));
  for (int fd : {message[0], up[0], down[1]}) ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fs::permissions(folder, old_perms);
  return result;
}

}  // namespace harness::db::testing
