// Forward declarations for caf-snapshot.
#pragma once

#include <cstdint>

namespace caf::snapshot {

// -- classes ------------------------------------------------------------------

class module;
struct snapshot_info;
struct actor_record;
struct message_record;
struct global_snapshot;

template <class Base>
class participant;

// -- enums --------------------------------------------------------------------

enum class errc : uint8_t;
enum class actor_status : uint8_t;
enum class message_location : uint8_t;

namespace detail {

class participant_core;
class registry;
class tagged_element;
class snapshot_writer;

} // namespace detail

} // namespace caf::snapshot
