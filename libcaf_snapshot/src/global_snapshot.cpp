#include "caf/snapshot/global_snapshot.hpp"

#include <exception>

#include "caf/binary_deserializer.hpp"
#include "caf/deserializer.hpp"
#include "caf/sec.hpp"

namespace caf::snapshot {

std::string to_string(actor_status x) {
  switch (x) {
    case actor_status::running:
      return "running";
    case actor_status::exited:
      return "exited";
  }
  return "actor_status(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

std::string to_string(message_location x) {
  switch (x) {
    case message_location::queue:
      return "queue";
    case message_location::urgent:
      return "urgent";
    case message_location::stash:
      return "stash";
    case message_location::clock:
      return "clock";
    case message_location::wire:
      return "wire";
  }
  return "message_location(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

namespace {

// A binary deserializer that refuses sequences with more elements than bytes
// left. CAF's binary deserializer resizes byte sequences (e.g.,
// `std::vector<char>`) to the announced size before checking it against the
// input, so a hostile length could allocate up to 4 GiB. Every element of a
// serialized sequence takes at least one byte, except for sequences of empty
// types, which messages do not carry in practice.
class bounded_deserializer : public caf::deserializer {
public:
  using super = caf::deserializer;

  bounded_deserializer(caf::actor_system& sys, const std::vector<char>& buf)
    : super(sys), inner_(sys, buf) {
    // nop
  }

  size_t remaining() const noexcept {
    return inner_.remaining();
  }

  caf::error begin_object(uint16_t& typenr, std::string& name) override {
    return inner_.begin_object(typenr, name);
  }

  caf::error end_object() override {
    return inner_.end_object();
  }

  caf::error begin_sequence(size_t& num) override {
    if (auto err = inner_.begin_sequence(num))
      return err;
    if (num > inner_.remaining())
      return caf::sec::end_of_stream;
    return caf::none;
  }

  caf::error end_sequence() override {
    return inner_.end_sequence();
  }

  caf::error apply_raw(size_t num_bytes, void* data) override {
    if (num_bytes > inner_.remaining())
      return caf::sec::end_of_stream;
    return inner_.apply_raw(num_bytes, data);
  }

protected:
  caf::error apply_impl(int8_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(uint8_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(int16_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(uint16_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(int32_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(uint32_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(int64_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(uint64_t& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(float& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(double& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(long double& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(std::string& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(std::u16string& x) override {
    return inner_.apply(x);
  }

  caf::error apply_impl(std::u32string& x) override {
    return inner_.apply(x);
  }

private:
  caf::binary_deserializer inner_;
};

std::string describe(const message_record& x) {
  std::string result = "message ";
  result += std::to_string(x.mid);
  result += " from actor ";
  result += std::to_string(x.sender);
  result += " to actor ";
  result += std::to_string(x.receiver);
  if (!x.text.empty()) {
    result += " with content ";
    result += x.text;
  }
  return result;
}

} // namespace

caf::expected<caf::message>
message_record::decode(caf::actor_system& sys) const {
  if (content.empty())
    return make_error(errc::unknown_type,
                      describe(*this)
                        + ": the sender could not serialize the content "
                          "when recording it (a type without a "
                          "serializer or not announced to CAF)");
  try {
    bounded_deserializer src{sys, content};
    caf::message msg;
    // Note: message::load reports unknown type names as sec::unknown_type,
    // whereas `src(msg)` would not load anything for type-erased content.
    if (auto err = msg.load(src))
      return make_error(errc::unknown_type,
                        describe(*this)
                          + ": cannot deserialize: " + sys.render(err)
                          + " (add the type with "
                            "actor_system_config::add_message_type)");
    if (src.remaining() != 0)
      return make_error(errc::unknown_type,
                        describe(*this) + ": " + std::to_string(src.remaining())
                          + " unexpected bytes after the content");
    return msg;
  } catch (std::exception& e) {
    return make_error(errc::unknown_type,
                      describe(*this) + ": cannot deserialize: " + e.what());
  } catch (...) {
    return make_error(errc::unknown_type,
                      describe(*this) + ": cannot deserialize");
  }
}

} // namespace caf::snapshot
