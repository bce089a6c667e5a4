// Files on both engines (ring operations on io_uring, the offload pool on
// epoll): write, read at offsets and at the position, fsync, size, errors.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "io_test_support.hpp"

using weft_io_test::IoEngine;
namespace io = weft::io;

namespace {

class IoFile : public IoEngine {
 protected:
  static std::string temp_path() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');  // "Case/io_uring"
    return ::testing::TempDir() + "weft_io_file_" + std::to_string(::getpid()) + "_" + name;
  }
};
WEFT_IO_ENGINES(IoFile);

TEST_P(IoFile, WriteReadFsyncSize) {
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    {
      io::file f = io::file::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      std::string text = "hello, file";
      f.write_all_at(text.data(), text.size(), 0);
      f.write_all_at("!", 1, text.size());
      f.fsync();
      f.fdatasync();
      EXPECT_EQ(f.size(), text.size() + 1);
    }
    io::file f = io::file::open(path);
    char buf[64];
    EXPECT_EQ(f.read_at(buf, 10, 7), 5u);  // short at end of file
    EXPECT_EQ(std::string(buf, 5), "file!");
    EXPECT_EQ(f.read(buf, 5), 5u);  // at the position, which read_at left alone
    EXPECT_EQ(std::string(buf, 5), "hello");
    EXPECT_EQ(f.read(buf, sizeof buf), 7u);
    EXPECT_EQ(f.read(buf, sizeof buf), 0u);
    f.close();
    EXPECT_THROW(f.read(buf, 1), weft::error);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, ManyThreadsWriteDisjointBlocks) {
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = io::file::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 64; ++i)
      ts.push_back(weft::spawn([&f, i] {
        std::string block(512, static_cast<char>('A' + i % 26));
        f.write_all_at(block.data(), block.size(), static_cast<std::uint64_t>(i) * 512);
      }));
    for (auto& t : ts) t.join();
    std::vector<char> all(64 * 512);
    ASSERT_EQ(f.read_at(all.data(), all.size(), 0), all.size());
    for (int i = 0; i < 64; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i) * 512 + 100], 'A' + i % 26);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, OpenMissingFileIsEnoent) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    try {
      io::file::open("/nonexistent/weft/file");
      ADD_FAILURE() << "opened a missing file";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory) << e.what();
    }
    EXPECT_THROW(io::file::open(""), weft::error);
  }).join();
}

}  // namespace
