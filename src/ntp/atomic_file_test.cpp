#include "ntp/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ntp/errors.hpp"

namespace ntp {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "ntp_atomic_XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  [[nodiscard]] std::string file(const std::string& name) const { return (dir_ / name).string(); }

  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Names of all entries (hidden ones included) of a directory, sorted.
  static std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

using AtomicFile = AtomicFileTest;
using AtomicOutputTest = AtomicFileTest;

TEST_F(AtomicFile, WritesNewFileWithUmaskMode) {
  const std::string path = file("out.bin");
  const std::string bytes("a\0b\xff\n", 5);
  write_file_atomic(path, bytes);
  EXPECT_EQ(slurp(path), bytes);
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"out.bin"});
  const mode_t mask = ::umask(0);
  ::umask(mask);
  struct stat sb {};
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0666 & ~mask);
}

TEST_F(AtomicFile, WritesEmptyFile) {
  const std::string path = file("empty");
  write_file_atomic(path, "");
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(fs::file_size(path), 0U);
}

TEST_F(AtomicFile, OverwritesExistingFile) {
  const std::string path = file("out.txt");
  write_file_atomic(path, std::string(10000, 'x'));
  write_file_atomic(path, "short");
  EXPECT_EQ(slurp(path), "short");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"out.txt"});
}

TEST_F(AtomicFile, MissingDirectoryThrowsIoErrorAndLeavesNothing) {
  const std::string path = file("no/such/dir/out.txt");
  try {
    write_file_atomic(path, "data");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(e.exit_code(), ExitCode::kInvalidInput);
  }
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(AtomicFile, RenameFailureRemovesTempFile) {
  // Renaming a file over a non-empty directory fails after the temporary file was written.
  const std::string path = file("target");
  fs::create_directory(path);
  std::ofstream(file("target/inside")) << "x";
  EXPECT_THROW(write_file_atomic(path, "data"), IoError);
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"target"});
  EXPECT_EQ(listing(path), std::vector<std::string>{"inside"});
}

TEST_F(AtomicFile, LongFileNameFitsTempName) {
  const std::string name(250, 'n');
  write_file_atomic(file(name), "long");
  EXPECT_EQ(slurp(file(name)), "long");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{name});
}

TEST_F(AtomicFile, DashWritesStdout) {
  ::testing::internal::CaptureStdout();
  write_file_atomic("-", "to stdout");
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "to stdout");
  EXPECT_FALSE(fs::exists("-"));
}

TEST_F(AtomicOutputTest, TempFileIsHiddenSibling) {
  const std::string path = file("result.npz");
  AtomicOutput out(path);
  EXPECT_EQ(out.path(), path);
  const fs::path temp(out.temp_path());
  EXPECT_EQ(temp.parent_path(), fs::path(path).parent_path());
  EXPECT_EQ(temp.filename().string().rfind(".result.npz.tmp.", 0), 0U) << out.temp_path();
  EXPECT_TRUE(fs::exists(temp));
  AtomicOutput other(path);
  EXPECT_NE(other.temp_path(), out.temp_path());
}

TEST_F(AtomicOutputTest, DestructorRemovesTempWithoutCommit) {
  const std::string path = file("x.bin");
  std::string temp;
  {
    AtomicOutput out(path);
    temp = out.temp_path();
    std::ofstream(temp) << "partial";
    EXPECT_TRUE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(AtomicOutputTest, OldContentVisibleUntilCommit) {
  const std::string path = file("x.bin");
  write_file_atomic(path, "old");
  AtomicOutput out(path);
  std::ofstream(out.temp_path()) << "new content";
  EXPECT_EQ(slurp(path), "old");  // a reader never sees a partial new file
  EXPECT_FALSE(out.committed());
  out.commit();
  EXPECT_TRUE(out.committed());
  EXPECT_EQ(slurp(path), "new content");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"x.bin"});
  EXPECT_THROW(out.commit(), IoError);
}

TEST_F(AtomicOutputTest, CommitAfterTempReplacedByRename) {
  // libzip writes its own temporary file and renames it over temp_path(): commit must still work.
  const std::string path = file("z.bin");
  AtomicOutput out(path);
  const std::string other = file("other");
  std::ofstream(other) << "renamed in";
  fs::rename(other, out.temp_path());
  out.commit();
  EXPECT_EQ(slurp(path), "renamed in");
  EXPECT_EQ(listing(dir_), std::vector<std::string>{"z.bin"});
}

TEST_F(AtomicOutputTest, RejectsDashAndMissingDirectory) {
  EXPECT_THROW(AtomicOutput("-"), IoError);
  EXPECT_THROW(AtomicOutput(file("missing/x")), IoError);
  EXPECT_TRUE(listing(dir_).empty());
}

}  // namespace
}  // namespace ntp
