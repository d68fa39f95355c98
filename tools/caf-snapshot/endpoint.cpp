#include "endpoint.hpp"

#include "command.hpp"
#include "format.hpp"

namespace caf_snapshot_tool {

namespace {

// Parses the port part of an endpoint.
uint16_t parse_port(const std::string& str, const std::string& what,
                    const std::string& whole) {
  if (str.empty())
    throw usage_error(what + " needs HOST:PORT, the port is missing in '"
                      + printable(whole) + "'");
  uint64_t result = 0;
  for (auto c : str) {
    if (c < '0' || c > '9')
      throw usage_error(what + ": port '" + printable(str)
                        + "' is not a number");
    result = result * 10 + static_cast<uint64_t>(c - '0');
    if (result > 65535)
      break;
  }
  if (result == 0 || result > 65535)
    throw usage_error(what + ": port " + printable(str)
                      + " is out of range (1 to 65535)");
  return static_cast<uint16_t>(result);
}

} // namespace

endpoint parse_endpoint(const std::string& str, const std::string& what) {
  endpoint result;
  std::string port;
  if (!str.empty() && str[0] == '[') {
    auto close = str.find(']');
    if (close == std::string::npos)
      throw usage_error(what + ": missing ']' after the IPv6 address in '"
                        + printable(str) + "'");
    result.host = str.substr(1, close - 1);
    if (close + 1 == str.size() || str[close + 1] != ':')
      throw usage_error(what + " needs [IPV6]:PORT, the port is missing in '"
                        + printable(str) + "'");
    port = str.substr(close + 2);
  } else {
    auto colon = str.rfind(':');
    if (colon == std::string::npos)
      throw usage_error(what + " needs HOST:PORT, the port is missing in '"
                        + printable(str) + "'");
    result.host = str.substr(0, colon);
    if (result.host.find(':') != std::string::npos)
      throw usage_error(what
                        + ": put IPv6 addresses in brackets, e.g. "
                          "[::1]:4242");
    port = str.substr(colon + 1);
  }
  if (result.host.empty())
    throw usage_error(what + " needs HOST:PORT, the host is missing in '"
                      + printable(str) + "'");
  for (auto c : result.host)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '['
        || c == ']')
      throw usage_error(what + ": invalid host name '" + printable(result.host)
                        + "'");
  result.port = parse_port(port, what, str);
  return result;
}

std::string to_string(const endpoint& x) {
  auto port = std::to_string(x.port);
  if (x.host.find(':') != std::string::npos)
    return '[' + x.host + "]:" + port;
  return x.host + ':' + port;
}

} // namespace caf_snapshot_tool
