#include "ntp/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <utility>

#include "ntp/errors.hpp"

namespace ntp {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::uint64_t random_u64() {
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  return gen();
}

// The directory holding `path` ("." for a bare name) and the name within it.
std::pair<std::string, std::string> split_path(const std::string& path) {
  const std::filesystem::path p(path);
  std::string dir = p.parent_path().string();
  std::string name = p.filename().string();
  return {dir, name};
}

// Makes a rename in `dir` durable; failures only weaken durability, never atomicity, so they are
// ignored (some file systems refuse fsync on a directory).
void fsync_directory(const std::string& dir) noexcept {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    (void)::close(fd);
  }
}

}  // namespace

AtomicOutput::AtomicOutput(std::string path) : path_(std::move(path)) {
  if (path_.empty() || path_ == "-") {
    throw IoError("output file '" + path_ + "': name is not a file path, got '" + path_ + "'");
  }
  auto [dir, name] = split_path(path_);
  if (name.empty() || name == "." || name == "..") {
    throw IoError("output file " + path_ + ": name is a directory, got '" + path_ + "'");
  }
  // Keep the temporary name within NAME_MAX (255) however long the final name is.
  constexpr std::size_t kMaxNamePart = 160;
  const std::string prefix = (dir.empty() ? std::string() : dir + "/") + "." +
                             name.substr(0, kMaxNamePart) + ".tmp." + std::to_string(::getpid()) +
                             ".";
  int last_error = 0;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx",
                  static_cast<unsigned long long>(random_u64()));  // NOLINT(runtime/int)
    std::string candidate = prefix + suffix;
    // O_EXCL reserves the name; mode 0666 lets the umask decide, as for an ordinary new file.
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      (void)::close(fd);
      temp_path_ = std::move(candidate);
      temp_exists_ = true;
      return;
    }
    last_error = errno;
    if (last_error != EEXIST) break;
  }
  throw IoError("output file " + path_ + ": cannot create a temporary file in directory '" +
                (dir.empty() ? std::string(".") : dir) + "', got " + errno_text(last_error));
}

AtomicOutput::~AtomicOutput() { remove_temp(); }

void AtomicOutput::remove_temp() noexcept {
  if (temp_exists_ && !committed_) {
    (void)::unlink(temp_path_.c_str());
  }
  temp_exists_ = false;
}

void AtomicOutput::commit() {
  if (committed_ || !temp_exists_) {
    throw IoError("output file " + path_ + ": commit called twice or after a failure, got no " +
                  "temporary file");
  }
  const auto fail = [this](const std::string& step, int err) {
    remove_temp();
    throw IoError("output file " + path_ + ": " + step + ", got " + errno_text(err));
  };
  // fsync before rename: otherwise a crash after the rename can expose an empty or partial file.
  const int fd = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot reopen temporary file " + temp_path_, errno);
  if (::fsync(fd) != 0) {
    const int err = errno;
    (void)::close(fd);
    fail("cannot fsync temporary file " + temp_path_, err);
  }
  if (::close(fd) != 0) fail("cannot close temporary file " + temp_path_, errno);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    fail("cannot rename temporary file " + temp_path_ + " over it", errno);
  }
  committed_ = true;
  temp_exists_ = false;
  fsync_directory(split_path(path_).first);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  if (path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    if (!std::cout) throw IoError("standard output: write failed, got a stream error");
    return;
  }
  AtomicOutput out(path);
  const int fd = ::open(out.temp_path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    throw IoError("output file " + path + ": cannot open temporary file " + out.temp_path() +
                  ", got " + errno_text(errno));
  }
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    constexpr std::size_t kChunk = std::size_t{1} << 30;
    const ssize_t n = ::write(fd, p, std::min(left, kChunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      (void)::close(fd);
      throw IoError("output file " + path + ": cannot write temporary file " + out.temp_path() +
                    ", got " + errno_text(err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    throw IoError("output file " + path + ": cannot close temporary file " + out.temp_path() +
                  ", got " + errno_text(errno));
  }
  out.commit();  // fsync + rename; the destructor removes the temporary file on any throw above
}

}  // namespace ntp
