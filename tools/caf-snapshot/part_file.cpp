#include "part_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "format.hpp"

namespace caf_snapshot_tool {

part_file::part_file(std::string dir) : dir_(std::move(dir)) {
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0)
    fail(dir_, "cannot use output directory", errno);
  if (!S_ISDIR(st.st_mode))
    fail(dir_, "cannot use output directory", ENOTDIR);
  auto path = dir_;
  if (!path.empty() && path.back() != '/')
    path += '/';
  path += ".caf-snapshot-XXXXXX.part";
  std::vector<char> buf{path.begin(), path.end()};
  buf.push_back('\0');
  fd_ = ::mkostemps(buf.data(), 5, O_CLOEXEC);
  if (fd_ < 0)
    fail(dir_, "cannot write to output directory", errno);
  temp_path_ = buf.data();
}

part_file::~part_file() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_ && !temp_path_.empty())
    ::unlink(temp_path_.c_str());
}

void part_file::write(const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail(temp_path_, "cannot write", errno);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void part_file::finish() {
  if (fd_ < 0)
    return;
  if (::fsync(fd_) != 0)
    fail(temp_path_, "cannot write", errno);
  auto fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    fail(temp_path_, "cannot write", errno);
}

std::string part_file::commit(const std::string& name) {
  finish();
  auto path = dir_;
  if (!path.empty() && path.back() != '/')
    path += '/';
  path += name;
  if (::rename(temp_path_.c_str(), path.c_str()) != 0)
    fail(path, "cannot rename the download to", errno);
  committed_ = true;
  // Make the rename durable; failing here loses nothing that was written.
  if (auto dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return path;
}

void part_file::fail(const std::string& path, const std::string& what,
                     int err) const {
  throw disk_error(what + " " + printable(path) + ": " + std::strerror(err));
}

} // namespace caf_snapshot_tool
