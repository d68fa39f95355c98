// Helpers shared by the tests: a system with the snapshot module, a fresh
// snapshot directory, and waiting for conditions with deadlines.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "caf/all.hpp"
#include "caf/snapshot/all.hpp"

namespace test {

/// A temporary directory removed on destruction.
class temp_dir {
public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path();
    std::string tmpl = (base / "caf-snapshot-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

/// A config with the snapshot module loaded and a private directory.
class config : public caf::actor_system_config {
public:
  explicit config(const std::string& dir,
                  caf::timespan timeout = std::chrono::seconds{60}) {
    load<caf::snapshot::module>();
    set("snapshot.directory", dir);
    set("snapshot.timeout", timeout);
    set("logger.console", caf::atom("none"));
  }
};

/// Requests a snapshot and waits for the reply (a generous bound that only
/// catches hangs).
inline caf::expected<caf::snapshot::snapshot_info>
take(caf::actor_system& sys,
     std::chrono::seconds bound = std::chrono::seconds{120}) {
  caf::scoped_actor self{sys};
  caf::expected<caf::snapshot::snapshot_info> result{caf::error{}};
  self
    ->request(caf::snapshot::coordinator(sys), bound,
              caf::snapshot::take_atom::value)
    .receive([&](caf::snapshot::snapshot_info& info) { result = info; },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// Takes a snapshot and loads it; fails the test on errors.
inline caf::snapshot::global_snapshot take_and_load(caf::actor_system& sys) {
  auto info = take(sys);
  if (!info) {
    ADD_FAILURE() << "take failed: " << sys.render(info.error());
    return {};
  }
  auto snap = caf::snapshot::load(info->path);
  if (!snap) {
    ADD_FAILURE() << "load failed: " << caf::snapshot::render(snap.error());
    return {};
  }
  return std::move(*snap);
}

/// Polls `pred` until it holds or `bound` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds bound
                       = std::chrono::seconds{60}) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::yield();
  }
  return pred();
}

} // namespace test
