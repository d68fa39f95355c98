#include "caf/snapshot/errc.hpp"

#include <utility>

#include "caf/make_message.hpp"
#include "caf/message.hpp"

namespace caf::snapshot {

std::string to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::timed_out:
      return "timed_out";
    case errc::state_not_serializable:
      return "state_not_serializable";
    case errc::storage_failed:
      return "storage_failed";
    case errc::file_damaged:
      return "file_damaged";
    case errc::unknown_type:
      return "unknown_type";
    case errc::not_a_snapshot:
      return "not_a_snapshot";
    case errc::unsupported_version:
      return "unsupported_version";
    case errc::streams_unsupported:
      return "streams_unsupported";
    case errc::module_not_loaded:
      return "module_not_loaded";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::cannot_open:
      return "cannot_open";
    case errc::state_mismatch:
      return "state_mismatch";
    case errc::shutting_down:
      return "shutting_down";
    case errc::incompatible_version:
      return "incompatible_version";
    case errc::node_lost:
      return "node_lost";
    case errc::cancelled:
      return "cancelled";
    case errc::limit_exceeded:
      return "limit_exceeded";
  }
  return "errc(" + std::to_string(static_cast<unsigned>(x)) + ")";
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), error_category};
}

caf::error make_error(errc x, std::string context) {
  if (context.empty())
    return make_error(x);
  return caf::error{static_cast<uint8_t>(x), error_category,
                    caf::make_message(std::move(context))};
}

std::string render(const caf::error& x) {
  if (!x || x.category() != error_category)
    return caf::to_string(x);
  std::string result = "snapshot: ";
  result += to_string(static_cast<errc>(x.code()));
  auto& ctx = x.context();
  if (ctx.empty())
    return result;
  result += " (";
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    result += ctx.get_as<std::string>(0);
  else
    for (size_t i = 0; i < ctx.size(); ++i) {
      if (i > 0)
        result += ", ";
      result += ctx.stringify(i);
    }
  result += ')';
  return result;
}

} // namespace caf::snapshot
