#include "mail/mime_message.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "core/ids.h"
#include "mail/mime_encoding.h"

namespace inkwell::mail {
namespace {

// RFC 5322 date-time in UTC, with English names whatever the locale: "Mon, 02 Jan 2006 15:04:05
// +0000".
std::string FormatDate(std::chrono::system_clock::time_point date) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(date);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 64> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%s, %02d %s %04d %02d:%02d:%02d +0000",
                kDays.at(static_cast<size_t>(utc.tm_wday)), utc.tm_mday,
                kMonths.at(static_cast<size_t>(utc.tm_mon)), utc.tm_year + 1900, utc.tm_hour,
                utc.tm_min, utc.tm_sec);
  return buffer.data();
}

std::string MessageIdValue(std::string_view message_id) {
  std::string id;
  for (const char c : message_id) {
    if (c != '<' && c != '>' && c > 0x20 && c != 0x7f) id += c;
  }
  if (id.empty()) id = core::NewUuid() + "@inkwell";
  return "<" + id + ">";
}

void AppendTextPart(std::string_view content_type, std::string_view body, std::string& out) {
  out += "Content-Type: ";
  out += content_type;
  out += "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += EncodeQuotedPrintable(body);
  out += "\r\n";
}

}  // namespace

std::string Serialize(const MimeMessage& message) {
  std::string out;
  out.reserve(1024 + 2 * (message.text.size() + message.html.size()));
  HeaderWriter header(out);
  header.Begin("Date");
  header.AddToken(FormatDate(message.date));
  header.End();
  header.Begin("From");
  header.AddMailbox(message.from);
  header.End();
  header.Begin("To");
  header.AddMailbox(message.to);
  header.End();
  header.Begin("Subject");
  header.AddText(StripLineBreaks(message.subject));
  header.End();
  header.Begin("Message-ID");
  header.AddToken(MessageIdValue(message.message_id));
  header.End();
  out += "MIME-Version: 1.0\r\n";

  if (message.html.empty()) {
    AppendTextPart("text/plain", message.text, out);
    return out;
  }
  // Quoted-printable output never contains "=_", so no part can contain this boundary.
  const std::string boundary = "=_inkwell_" + core::UniqueHex(16);
  out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  out += "--" + boundary + "\r\n";
  AppendTextPart("text/plain", message.text, out);
  out += "--" + boundary + "\r\n";
  AppendTextPart("text/html", message.html, out);
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string EnvelopeAddress(std::string_view from_or_to) {
  std::string address = ParseMailbox(from_or_to).address;
  address.erase(
      std::remove_if(address.begin(), address.end(), [](char c) { return c == ' ' || c == '\t'; }),
      address.end());
  return address;
}

}  // namespace inkwell::mail
