// The network address of a published coordinator on the command line:
// `HOST:PORT`, with IPv6 addresses in brackets (`[::1]:4242`).
//
// Usage:
//   auto ep = parse_endpoint("127.0.0.1:4242", "--connect");
//   std::cout << to_string(ep);  // "127.0.0.1:4242"
#pragma once

#include <cstdint>
#include <string>

namespace caf_snapshot_tool {

/// A host (name, IPv4 or IPv6 address, without brackets) and a TCP port.
struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// Parses `HOST:PORT` or `[IPV6]:PORT`; the port must be 1 to 65535. `what`
/// names the argument in error messages.
/// @throws usage_error with a message that says what is wrong.
endpoint parse_endpoint(const std::string& str, const std::string& what);

/// Renders `x` as `HOST:PORT`, putting IPv6 addresses in brackets.
std::string to_string(const endpoint& x);

} // namespace caf_snapshot_tool
