#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace inkwell::mail {

// One rendered e-mail, before MIME encoding. Plain data; no invariants beyond the field comments.
struct MimeMessage {
  std::string from;        // "Display Name <addr@host>" or bare "addr@host"
  std::string to;          // same forms as from; one recipient
  std::string subject;     // UTF-8
  std::string text;        // UTF-8 plain-text body; any line endings
  std::string html;        // UTF-8 HTML body; empty means a plain-text-only message
  std::string message_id;  // Message-ID value without angle brackets: "0b7c...@inkwell"
  std::chrono::system_clock::time_point date;
};

// Encodes message as an RFC 5322 / RFC 2045 message with CRLF line endings, ready for SMTP DATA
// or a maildir file.
//
// Headers: Date (UTC, "+0000"), From, To, Subject, Message-ID, MIME-Version. Non-ASCII header text
// becomes RFC 2047 encoded-words (=?UTF-8?B?...?=, at most 75 characters each, never splitting a
// UTF-8 sequence); in From/To only the display name is encoded, the address is kept as is. Long
// header values are folded. CR or LF in any header input is replaced by a space, so input can
// never add a header. An empty message_id gets a fresh random one ("<uuid>@inkwell"); angle
// brackets and whitespace in message_id are dropped.
//
// Body: with html, multipart/alternative with a text/plain and a text/html part; without it, a
// single text/plain part. Both charset=utf-8 and quoted-printable (lines of at most 76 characters,
// soft line breaks); bare LF or CR in the body become CRLF. The multipart boundary starts with
// "=_", which quoted-printable output can never contain, so it cannot occur inside a part.
//
// Never fails; invalid UTF-8 is passed through byte for byte (encoded, so still 7-bit safe).
std::string Serialize(const MimeMessage& message);

// The bare addr-spec of a From/To value, for SMTP MAIL FROM and RCPT TO:
// "Ada <ada@example.org>" and "ada@example.org" both give "ada@example.org". Surrounding
// whitespace, CR and LF are removed. Does not validate the address.
std::string EnvelopeAddress(std::string_view from_or_to);

}  // namespace inkwell::mail
