#include "amqp/broker_url.h"

#include <charconv>

#include "core/percent_decode.h"

namespace inkwell::amqp {
namespace {

using core::ErrorCode;

core::Result<std::string> PercentDecode(std::string_view text) {
  auto decoded = core::PercentDecode(text);
  if (!decoded) return core::Fail(ErrorCode::kInvalidArgument, "INKWELL_AMQP_URL: bad %-escape");
  return std::move(*decoded);
}

}  // namespace

core::Result<BrokerUrl> BrokerUrl::Parse(std::string_view text) {
  BrokerUrl url;
  std::string_view rest;
  if (text.starts_with("amqp://")) {
    rest = text.substr(7);
  } else if (text.starts_with("amqps://")) {
    rest = text.substr(8);
    url.is_tls = true;
    url.port = 5671;
  } else {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "INKWELL_AMQP_URL must start with amqp:// or amqps:// (got '" +
                          std::string(text.substr(0, 16)) + "')");
  }
  // Query parameters (heartbeat=..., etc.) are not read; our settings come from INKWELL_*.
  rest = rest.substr(0, rest.find('?'));
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    auto vhost = PercentDecode(rest.substr(slash + 1));
    if (!vhost) return tl::unexpected(vhost.error());
    url.vhost = *vhost;
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon));
    if (!user) return tl::unexpected(user.error());
    url.user = *user;
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1));
      if (!password) return tl::unexpected(password.error());
      url.password = *password;
    }
  }
  size_t colon = authority.rfind(':');
  if (authority.starts_with('[')) {  // IPv6 literal: [::1] or [::1]:5672
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::Fail(ErrorCode::kInvalidArgument, "INKWELL_AMQP_URL: unclosed '[' in the host");
    }
    url.host = std::string(authority.substr(1, close - 1));
    colon = close + 1 < authority.size() && authority[close + 1] == ':' ? close + 1 : std::string_view::npos;
  } else {
    url.host = std::string(authority.substr(0, colon));
  }
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return core::Fail(ErrorCode::kInvalidArgument,
                        "INKWELL_AMQP_URL: port '" + std::string(port) + "' is not 1-65535");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  if (url.host.empty()) {
    return core::Fail(ErrorCode::kInvalidArgument, "INKWELL_AMQP_URL: host is missing");
  }
  return url;
}

std::string BrokerUrl::Redacted() const {
  return std::string(is_tls ? "amqps://" : "amqp://") + user + ":***@" + host + ":" +
         std::to_string(port) + "/" + (vhost == "/" ? "" : vhost);
}

}  // namespace inkwell::amqp
