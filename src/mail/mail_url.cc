#include "mail/mail_url.h"

#include <charconv>
#include <optional>

namespace inkwell::mail {
namespace {

constexpr std::string_view kContext = "INKWELL_MAIL_URL: ";

core::Error Invalid(std::string what) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::string(kContext) + std::move(what)};
}

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// The error names the field, not its value: the value may be a password.
core::Result<std::string> PercentDecode(std::string_view text, std::string_view field) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const auto high = i + 2 < text.size() ? HexValue(text[i + 1]) : std::nullopt;
    const auto low = i + 2 < text.size() ? HexValue(text[i + 2]) : std::nullopt;
    if (!high || !low) {
      return tl::unexpected(Invalid("bad percent-encoding in the " + std::string(field) +
                                    ", expected %XX with two hex digits"));
    }
    out += static_cast<char>(*high * 16 + *low);
    i += 2;
  }
  return out;
}

core::Result<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return tl::unexpected(
        Invalid("bad port '" + std::string(text) + "', expected a number from 1 to 65535"));
  }
  return static_cast<uint16_t>(value);
}

// Splits "host[:port]" or "[v6]:port" into url.host and url.port.
core::Result<void> ParseHostPort(std::string_view text, MailUrl& url) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return tl::unexpected(Invalid("IPv6 host lacks ']'"));
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return tl::unexpected(Invalid("unexpected '" + std::string(rest) + "' after IPv6 host"));
    }
    if (!rest.empty()) port = rest.substr(1);
  } else if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port->find(':') != std::string_view::npos) {
      return tl::unexpected(Invalid("an IPv6 host must be in brackets, as in smtp://[::1]:25"));
    }
  }
  if (host.empty()) return tl::unexpected(Invalid("missing host"));
  url.host = std::string(host);
  if (port) {
    auto number = ParsePort(*port);
    if (!number) return tl::unexpected(number.error());
    url.port = *number;
  }
  return {};
}

core::Result<void> ParseQuery(std::string_view query, MailUrl& url) {
  if (query.empty()) return {};
  const size_t equals = query.find('=');
  const std::string_view key = query.substr(0, equals);
  const std::string_view value =
      equals == std::string_view::npos ? std::string_view() : query.substr(equals + 1);
  if (key != "starttls") {
    return tl::unexpected(
        Invalid("unknown parameter '" + std::string(key) + "', expected starttls"));
  }
  if (url.scheme != MailUrl::Scheme::kSmtp) {
    return tl::unexpected(Invalid("starttls applies to smtp:// only; smtps:// is always TLS"));
  }
  if (value == "required") {
    url.starttls = MailUrl::StartTls::kRequired;
  } else if (value == "optional") {
    url.starttls = MailUrl::StartTls::kOptional;
  } else {
    return tl::unexpected(
        Invalid("bad starttls value '" + std::string(value) + "', expected required or optional"));
  }
  return {};
}

core::Result<MailUrl> ParseSmtpUrl(MailUrl::Scheme scheme, std::string_view rest) {
  MailUrl url;
  url.scheme = scheme;
  url.port = scheme == MailUrl::Scheme::kSmtps ? 465 : 25;
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  std::string_view query;
  if (const size_t mark = path_and_query.find('?'); mark != std::string_view::npos) {
    query = path_and_query.substr(mark + 1);
    path_and_query = path_and_query.substr(0, mark);
  }
  if (!path_and_query.empty() && path_and_query != "/") {
    return tl::unexpected(Invalid("unexpected path '" + std::string(path_and_query) +
                                  "', expected nothing after host[:port]"));
  }
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = PercentDecode(userinfo.substr(0, colon), "user name");
    if (!user) return tl::unexpected(user.error());
    if (user->empty()) return tl::unexpected(Invalid("empty user name before '@'"));
    url.user = std::move(*user);
    if (colon != std::string_view::npos) {
      auto password = PercentDecode(userinfo.substr(colon + 1), "password");
      if (!password) return tl::unexpected(password.error());
      url.password = std::move(*password);
    }
  }
  if (auto host_port = ParseHostPort(authority, url); !host_port) {
    return tl::unexpected(host_port.error());
  }
  if (auto parameters = ParseQuery(query, url); !parameters) {
    return tl::unexpected(parameters.error());
  }
  return url;
}

}  // namespace

core::Result<MailUrl> ParseMailUrl(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return tl::unexpected(Invalid("missing scheme, expected maildir:, smtp:// or smtps://"));
  }
  const std::string_view scheme = url.substr(0, colon);
  std::string_view rest = url.substr(colon + 1);
  if (scheme == "maildir") {
    if (rest.starts_with("//")) rest.remove_prefix(2);
    if (rest.empty())
      return tl::unexpected(Invalid("maildir: needs a path, as in maildir:var/mail"));
    MailUrl parsed;
    parsed.scheme = MailUrl::Scheme::kMaildir;
    parsed.maildir = std::filesystem::path(rest);
    return parsed;
  }
  if (scheme == "smtp" || scheme == "smtps") {
    if (!rest.starts_with("//")) {
      return tl::unexpected(
          Invalid("expected '//' after '" + std::string(scheme) + ":', as in smtp://host:25"));
    }
    rest.remove_prefix(2);
    return ParseSmtpUrl(scheme == "smtp" ? MailUrl::Scheme::kSmtp : MailUrl::Scheme::kSmtps, rest);
  }
  return tl::unexpected(Invalid("unknown scheme '" + std::string(scheme) +
                                "', expected maildir:, smtp:// or smtps://"));
}

}  // namespace inkwell::mail
