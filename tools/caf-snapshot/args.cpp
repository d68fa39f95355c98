#include "args.hpp"

#include <limits>

#include "command.hpp"

namespace caf_snapshot_tool {

bool parsed_args::has(const std::string& name) const {
  for (auto& opt : options)
    if (opt.first == name)
      return true;
  return false;
}

std::vector<std::string> parsed_args::values(const std::string& name) const {
  std::vector<std::string> result;
  for (auto& opt : options)
    if (opt.first == name)
      result.push_back(opt.second);
  return result;
}

std::optional<std::string> parsed_args::last(const std::string& name) const {
  std::optional<std::string> result;
  for (auto& opt : options)
    if (opt.first == name)
      result = opt.second;
  return result;
}

parsed_args parse_args(const std::vector<std::string>& args,
                       const std::vector<option_spec>& specs) {
  parsed_args result;
  // Help wins over everything else, so that `cmd --bogus --help` helps.
  for (auto& arg : args) {
    if (arg == "--")
      break;
    if (arg == "-h" || arg == "--help") {
      result.help = true;
      return result;
    }
  }
  auto find_spec = [&](const std::string& name) -> const option_spec* {
    for (auto& spec : specs)
      if (spec.name == name)
        return &spec;
    return nullptr;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "--") {
      result.positionals.insert(result.positionals.end(), args.begin() + i + 1,
                                args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      result.positionals.push_back(arg);
      continue;
    }
    if (arg[1] != '-')
      throw usage_error("unknown option '" + arg + "'");
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos
                                                      : eq - 2);
    auto spec = find_spec(name);
    if (spec == nullptr)
      throw usage_error("unknown option '--" + name + "'");
    if (!spec->takes_value) {
      if (eq != std::string::npos)
        throw usage_error("option '--" + name + "' takes no value");
      result.options.emplace_back(name, std::string{});
    } else if (eq != std::string::npos) {
      result.options.emplace_back(name, arg.substr(eq + 1));
    } else if (i + 1 < args.size()) {
      result.options.emplace_back(name, args[++i]);
    } else {
      throw usage_error("option '--" + name + "' needs a value");
    }
  }
  return result;
}

uint64_t parse_uint(const std::string& str, const std::string& what) {
  auto fail = [&]() -> uint64_t {
    throw usage_error(what + " needs a non-negative integer, got '" + str
                      + "'");
  };
  if (str.empty() || str.size() > 20)
    return fail();
  uint64_t result = 0;
  constexpr auto max = std::numeric_limits<uint64_t>::max();
  for (auto c : str) {
    if (c < '0' || c > '9')
      return fail();
    auto digit = static_cast<uint64_t>(c - '0');
    if (result > (max - digit) / 10)
      return fail();
    result = result * 10 + digit;
  }
  return result;
}

} // namespace caf_snapshot_tool
