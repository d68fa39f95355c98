#include "caf/snapshot/detail/file_system.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace caf::snapshot::detail {

file_system::~file_system() {
  // nop
}

int file_system::create(const std::string& path, int& fd) {
  int res;
  do {
    res = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  } while (res < 0 && errno == EINTR);
  if (res < 0)
    return errno;
  fd = res;
  return 0;
}

int file_system::write(int fd, const void* data, size_t size) {
  auto pos = static_cast<const char*>(data);
  while (size > 0) {
    auto res = ::write(fd, pos, size);
    if (res < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (res == 0)
      return EIO;
    pos += res;
    size -= static_cast<size_t>(res);
  }
  return 0;
}

int file_system::fsync(int fd) {
  int res;
  do {
    res = ::fsync(fd);
  } while (res < 0 && errno == EINTR);
  return res < 0 ? errno : 0;
}

int file_system::close(int fd) {
  // Linux releases the descriptor even if close fails: never retry.
  if (::close(fd) < 0 && errno != EINTR)
    return errno;
  return 0;
}

int file_system::rename_noreplace(const std::string& from,
                                  const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE)
      == 0)
    return 0;
  auto err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP)
    return err;
  // The file system does not support RENAME_NOREPLACE: a hard link fails
  // atomically if the target exists.
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return 0;
  }
  err = errno;
  if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP)
    return err;
  // No hard links either (e.g., some FUSE or FAT file systems): check and
  // rename. Only racy if two writers pick the same name at the same time.
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0)
    return EEXIST;
  if (::rename(from.c_str(), to.c_str()) != 0)
    return errno;
  return 0;
}

int file_system::unlink(const std::string& path) {
  return ::unlink(path.c_str()) < 0 ? errno : 0;
}

int file_system::fsync_directory(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno;
  int res;
  do {
    res = ::fsync(fd);
  } while (res < 0 && errno == EINTR);
  auto err = res < 0 ? errno : 0;
  ::close(fd);
  // Some file systems cannot sync directories; that is no failure.
  if (err == EINVAL || err == EROFS)
    err = 0;
  return err;
}

int file_system::make_directories(const std::string& path, unsigned mode) {
  if (path.empty())
    return ENOENT;
  auto is_dir = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  if (is_dir(path))
    return 0;
  // Create each prefix that ends before a '/' and finally `path` itself.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos < path.size() && path[pos] != '/')
      continue;
    if (path[pos - 1] == '/')
      continue; // Skip repeated slashes.
    auto prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), static_cast<mode_t>(mode)) == 0)
      continue;
    auto err = errno;
    if (err != EEXIST)
      return err;
    if (!is_dir(prefix))
      return ENOTDIR;
  }
  return 0;
}

file_system& default_file_system() {
  static file_system instance;
  return instance;
}

int read_chunk(const std::string& path, uint64_t offset, size_t max_size,
               std::vector<char>& out, uint64_t& file_size) {
  out.clear();
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno;
  auto result = [&]() -> int {
    struct stat st;
    if (::fstat(fd, &st) != 0)
      return errno;
    if (!S_ISREG(st.st_mode))
      return EINVAL;
    file_size = static_cast<uint64_t>(st.st_size);
    if (offset > file_size)
      return EINVAL;
    auto want = static_cast<size_t>(
      std::min<uint64_t>(max_size, file_size - offset));
    out.resize(want);
    size_t got = 0;
    while (got < want) {
      auto n = ::pread(fd, out.data() + got, want - got,
                       static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return errno;
      if (n == 0)
        break; // Shrunk meanwhile: return what is there.
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return 0;
  }();
  ::close(fd);
  if (result != 0)
    out.clear();
  return result;
}

std::string errno_text(int code) {
  return std::error_code{code, std::generic_category()}.message();
}

} // namespace caf::snapshot::detail
