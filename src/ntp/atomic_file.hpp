#pragma once
/** @file atomic_file.hpp
 * Output files that appear all at once: the bytes go to a temporary file in the target's directory
 * (".<name>.tmp.<pid>.<random>", created with O_EXCL and mode 0666 & ~umask), which is fsynced and
 * then renamed over the target, and the directory is fsynced. rename(2) is atomic within a file
 * system, so a reader, a crash or a kill sees either the old file or the complete new one, never a
 * partial file under the final name. (A kill -9 can leave the hidden temporary file behind.)
 *
 * The new file gets mode 0666 & ~umask (the mode of a replaced file is not kept). When `path` is a
 * symbolic link, the link itself is replaced by a regular file.
 */
#include <string>
#include <string_view>

namespace ntp {

/**
 * Writes `bytes` to `path` atomically (see the file comment). "-" writes to standard output
 * (not atomic, no temporary file). Throws IoError naming the path and strerror on any failure,
 * after removing the temporary file.
 */
void write_file_atomic(const std::string& path, std::string_view bytes);

/**
 * A temporary file that becomes `path` on commit(), for writers that need a real file path (e.g.
 * libzip):
 *
 *     AtomicOutput out(path);
 *     write_something_to(out.temp_path());
 *     out.commit();
 *
 * The constructor creates the temporary file (empty); the writer may truncate it, rewrite it or
 * replace it by rename. commit() fsyncs whatever file is then at temp_path(), renames it over
 * path() and fsyncs the directory. The destructor removes the temporary file when commit() was not
 * called or failed. Not copyable or movable.
 */
class AtomicOutput {
 public:
  /** Creates the temporary file next to `path`; throws IoError (e.g. no such directory, or `path`
   * is "-"). */
  explicit AtomicOutput(std::string path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  AtomicOutput(AtomicOutput&&) = delete;
  AtomicOutput& operator=(AtomicOutput&&) = delete;

  /** The final name. */
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /** The temporary file to write. */
  [[nodiscard]] const std::string& temp_path() const noexcept { return temp_path_; }
  /** True after a successful commit(). */
  [[nodiscard]] bool committed() const noexcept { return committed_; }

  /** Makes the temporary file the final one; throws IoError (and removes the temporary file) on
   * failure. Calling it twice throws. */
  void commit();

 private:
  void remove_temp() noexcept;

  std::string path_;
  std::string temp_path_;
  bool committed_ = false;
  bool temp_exists_ = false;
};

}  // namespace ntp
