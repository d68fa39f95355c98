// Operating snapshots: retention (`snapshot.keep`) and cancelling pending
// snapshots (`cancel_atom`).

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edge_cases_util.hpp"

#include "caf/snapshot/detail/retention.hpp"

namespace {

namespace fs = std::filesystem;
using namespace edge;

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> result;
  for (auto& entry : fs::directory_iterator{dir})
    result.push_back(entry.path().filename().string());
  std::sort(result.begin(), result.end());
  return result;
}

void touch(const std::string& path) {
  std::ofstream out{path};
  out << "x";
}

class keep_config : public test::config {
public:
  keep_config(const std::string& dir, size_t keep) : test::config(dir) {
    set("snapshot.keep", keep);
  }
};

// Fails to remove one chosen file.
class failing_unlink : public snap::detail::file_system {
public:
  explicit failing_unlink(std::string victim) : victim_(std::move(victim)) {
    // nop
  }
  int unlink(const std::string& path) override {
    if (path == victim_)
      return EACCES;
    return file_system::unlink(path);
  }

private:
  std::string victim_;
};

caf::expected<snap::snapshot_info> take_with(caf::actor_system& sys) {
  return test::take(sys);
}

} // namespace

TEST(operations, keep_removes_the_oldest_files_and_nothing_else) {
  test::temp_dir dir;
  // Files that are not committed snapshots stay.
  touch(dir.path() + "/notes.txt");
  touch(dir.path() + "/.snapshot-9-1-00ab.tmp");
  touch(dir.path() + "/snapshot-x-1.cafsnap");
  touch(dir.path() + "/snapshot-00000001-1.cafsnap.bak");
  keep_config cfg{dir.path(), 3};
  caf::actor_system sys{cfg};
  auto a = sys.spawn(counter_fn, gate_ptr{});
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) {
    auto info = test::take(sys);
    ASSERT_TRUE(info) << sys.render(info.error());
    paths.push_back(info->path);
    // Never more than `keep` snapshots, the newest one always among them.
    size_t committed = 0;
    for (auto& name : names_in(dir.path()))
      if (name.rfind("snapshot-0", 0) == 0
          && name.size() > 8 && name.substr(name.size() - 8) == ".cafsnap")
        ++committed;
    EXPECT_EQ(committed, std::min<size_t>(i + 1, 3));
    EXPECT_TRUE(fs::exists(info->path));
  }
  for (size_t i = 0; i < paths.size(); ++i)
    EXPECT_EQ(fs::exists(paths[i]), i >= 3) << paths[i];
  for (size_t i = 3; i < paths.size(); ++i)
    EXPECT_TRUE(snap::load(paths[i])) << paths[i];
  for (auto name : {"notes.txt", ".snapshot-9-1-00ab.tmp",
                    "snapshot-x-1.cafsnap", "snapshot-00000001-1.cafsnap.bak"})
    EXPECT_TRUE(fs::exists(dir.path() + "/" + name)) << name;
  caf::anon_send_exit(a, caf::exit_reason::kill);
}

TEST(operations, keep_orders_by_request_time_since_ids_restart_with_each_run) {
  test::temp_dir dir;
  // A previous run reached ID 50; this run starts again at 1.
  for (auto name : {"snapshot-00000049-1000.cafsnap",
                    "snapshot-00000050-2000.cafsnap",
                    "snapshot-00000001-3000.cafsnap",
                    "snapshot-00000002-3000.cafsnap"})
    touch(dir.path() + "/" + name);
  auto newest = dir.path() + "/snapshot-00000002-3000.cafsnap";
  auto res = snap::detail::prune_snapshots(
    snap::detail::default_file_system(), dir.path(), 2, newest);
  ASSERT_TRUE(res) << snap::render(res.error());
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"snapshot-00000001-3000.cafsnap",
                                      "snapshot-00000002-3000.cafsnap"}));
}

TEST(operations, keep_zero_keeps_everything) {
  test::temp_dir dir;
  keep_config cfg{dir.path(), 0};
  caf::actor_system sys{cfg};
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(take_with(sys));
  EXPECT_EQ(names_in(dir.path()).size(), 4u);
}

TEST(operations, prune_reports_a_file_it_cannot_remove_and_keeps_the_newest) {
  test::temp_dir dir;
  for (auto name : {"snapshot-00000001-10.cafsnap",
                    "snapshot-00000002-20.cafsnap",
                    "snapshot-00000002-20-1.cafsnap",
                    "snapshot-00000003-30.cafsnap"})
    touch(dir.path() + "/" + name);
  auto newest = dir.path() + "/snapshot-00000003-30.cafsnap";
  failing_unlink broken{dir.path() + "/snapshot-00000002-20.cafsnap"};
  auto res = snap::detail::prune_snapshots(broken, dir.path(), 1, newest);
  ASSERT_FALSE(res);
  auto text = snap::render(res.error());
  EXPECT_NE(text.find("storage_failed"), std::string::npos) << text;
  EXPECT_NE(text.find("snapshot-00000002-20.cafsnap: cannot remove"),
            std::string::npos)
    << text;
  EXPECT_FALSE(fs::exists(dir.path() + "/snapshot-00000001-10.cafsnap"));
  EXPECT_TRUE(fs::exists(newest));
  // With a working file system, the rest goes; the newest stays.
  auto again = snap::detail::prune_snapshots(
    snap::detail::default_file_system(), dir.path(), 1, newest);
  ASSERT_TRUE(again) << snap::render(again.error());
  EXPECT_FALSE(again->empty());
  EXPECT_EQ(names_in(dir.path()),
            std::vector<std::string>{"snapshot-00000003-30.cafsnap"});
  // Missing directories are a clear error.
  auto missing = snap::detail::prune_snapshots(
    snap::detail::default_file_system(), dir.path() + "/nope", 1, newest);
  ASSERT_FALSE(missing);
  EXPECT_NE(snap::render(missing.error()).find("cannot list"),
            std::string::npos);
}

TEST(operations, cancel_answers_the_requester_and_frees_the_snapshot) {
  fixture f;
  auto g = f.make_gate();
  auto stuck = f.spawn(counter_fn, g);
  auto other = f.spawn(counter_fn, gate_ptr{});
  caf::anon_send(stuck, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  async_take t{f.sys};
  auto* mod = snap::module::find(f.sys);
  ASSERT_TRUE(test::eventually(
    [&] { return mod->participants().highest_active() != 0; }, 30s));
  auto id = mod->participants().highest_active();
  caf::scoped_actor self{f.sys};
  auto coord = snap::coordinator(f.sys);
  // Unknown IDs are refused.
  self->request(coord, 60s, snap::cancel_atom::value, id + 100)
    .receive([] { ADD_FAILURE() << "cancelled a ghost"; },
             [&](caf::error& err) {
               EXPECT_EQ(err.code(),
                         static_cast<uint8_t>(snap::errc::invalid_argument));
             });
  self->request(coord, 60s, snap::cancel_atom::value, id)
    .receive([] {},
             [&](caf::error& err) {
               ADD_FAILURE() << "cancel failed: " << f.sys.render(err);
             });
  auto result = t.get();
  ASSERT_FALSE(result) << "snapshot " << result->id << " was stored";
  EXPECT_EQ(result.error().code(),
            static_cast<uint8_t>(snap::errc::cancelled))
    << f.sys.render(result.error());
  EXPECT_NE(f.sys.render(result.error()).find("cancelled"),
            std::string::npos);
  // Nothing of it stays on disk; the registry no longer runs it.
  EXPECT_EQ(f.files_in_directory(), 0u);
  EXPECT_EQ(mod->participants().highest_active(), 0u);
  // The stuck actor is released; later snapshots work and cover both.
  g->release();
  auto s = test::take_and_load(f.sys);
  EXPECT_NE(find_actor(s, stuck.id()), nullptr);
  EXPECT_NE(find_actor(s, other.id()), nullptr);
}

TEST(operations, cancel_without_id_cancels_every_pending_snapshot) {
  fixture f;
  auto g = f.make_gate();
  auto stuck = f.spawn(counter_fn, g);
  caf::anon_send(stuck, block_atom::value);
  ASSERT_TRUE(g->wait_entered());
  async_take t1{f.sys};
  async_take t2{f.sys};
  coordinator_barrier(f.sys);
  caf::scoped_actor self{f.sys};
  self->request(snap::coordinator(f.sys), 60s, snap::cancel_atom::value)
    .receive([](uint64_t n) { EXPECT_EQ(n, 2u); },
             [&](caf::error& err) {
               ADD_FAILURE() << "cancel failed: " << f.sys.render(err);
             });
  for (auto* t : {&t1, &t2}) {
    auto result = t->get();
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(),
              static_cast<uint8_t>(snap::errc::cancelled));
  }
  // Nothing pending: cancelling again cancels nothing.
  self->request(snap::coordinator(f.sys), 60s, snap::cancel_atom::value)
    .receive([](uint64_t n) { EXPECT_EQ(n, 0u); },
             [&](caf::error& err) {
               ADD_FAILURE() << "cancel failed: " << f.sys.render(err);
             });
  g->release();
}

// -- pacing of markers --------------------------------------------------------

// The coordinator keeps at most 8,192 markers awaiting their reports and
// sends the rest as reports come in. Three windows' worth of participants,
// all of them in the snapshot with their states.
TEST(operations, markers_beyond_the_window_reach_every_participant) {
  constexpr int n = 3 * 8192 + 100;
  fixture f;
  std::vector<caf::actor> xs;
  xs.reserve(n);
  for (int i = 0; i < n; ++i)
    xs.emplace_back(f.spawn(counter_fn, gate_ptr{}));
  // The last one has a state of its own (sent before the snapshot, so it
  // is either handled or in flight at the cut).
  caf::anon_send(xs.back(), 7);
  EXPECT_EQ(ask<int64_t>(f.sys, xs.back(), query_atom::value), 1);
  auto s = test::take_and_load(f.sys);
  ASSERT_EQ(s.actors.size(), static_cast<size_t>(n));
  std::vector<caf::actor_id> recorded;
  recorded.reserve(n);
  for (auto& a : s.actors)
    recorded.emplace_back(a.id);
  std::sort(recorded.begin(), recorded.end());
  std::vector<caf::actor_id> expected;
  expected.reserve(n);
  for (auto& x : xs)
    expected.emplace_back(x.id());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(recorded, expected);
  EXPECT_EQ(state_of<counter_state>(s, xs.back().id()).sum, 7);
  EXPECT_TRUE(s.in_flight.empty());
}
