#pragma once

// Encodings used by Serialize (mime_message.h). Internal to the mail module; exposed in a header
// so the unit tests can check each encoding on its own.

#include <string>
#include <string_view>

namespace inkwell::mail {

// RFC 4648 base64 with padding.
std::string EncodeBase64(std::string_view bytes);

// RFC 2045 quoted-printable of a text body. Line endings (CRLF, bare LF, bare CR) become CRLF
// hard breaks; every output line has at most 76 characters, using "=" soft breaks. Trailing
// spaces and tabs, "=", non-ASCII and control bytes, and a "." that starts a line are =XX
// encoded, so the output is 7-bit, has no "=_" and survives SMTP. No CRLF is added at the end
// unless the text ends with a line break.
std::string EncodeQuotedPrintable(std::string_view text);

// Replaces each CR and LF with a space, so a value cannot start a new header line.
std::string StripLineBreaks(std::string_view text);

// Writes one header field, "Name: value\r\n", folding at whitespace so that lines stay within
// 78 characters where the value allows it (always within 998). Values must have no CR or LF.
class HeaderWriter {
 public:
  explicit HeaderWriter(std::string& out) : out_(out) {}

  void Begin(std::string_view name);
  // Unstructured text (Subject): kept as is when it is short printable ASCII, else RFC 2047
  // encoded-words.
  void AddText(std::string_view text);
  // A mailbox, "Name <addr>" or "addr": the display name as a plain or quoted phrase, or as
  // encoded-words; the address as is.
  void AddMailbox(std::string_view mailbox);
  // A value that must stay one token (a Message-ID, a date).
  void AddToken(std::string_view token);
  void End();

 private:
  void Append(std::string_view token_with_leading_space);
  void AddWords(std::string_view text);
  void AddEncodedWords(std::string_view text);

  std::string& out_;
  size_t line_length_ = 0;
  bool is_line_empty_ = true;  // nothing after the field name or the folding point yet
};

// Splits a From/To value into display name (unquoted, may be empty) and address, both trimmed.
struct Mailbox {
  std::string display_name;
  std::string address;
};
Mailbox ParseMailbox(std::string_view value);

}  // namespace inkwell::mail
