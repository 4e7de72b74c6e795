#include "mail/mime_message.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/utf8.h"
#include "mail/mime_encoding.h"

namespace inkwell::mail {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// 2024-02-29 12:34:56 UTC, a Thursday.
const system_clock::time_point kLeapDay = system_clock::time_point(seconds(1709210096));

MimeMessage SampleMessage() {
  MimeMessage message;
  message.from = "Inkwell <noreply@inkwell.test>";
  message.to = "ada@example.org";
  message.subject = "Welcome";
  message.text = "Hello Ada,\nconfirm here.\n";
  message.html = "<p>Hello Ada,</p>\n<p>confirm here.</p>\n";
  message.message_id = "0b7c1d@inkwell";
  message.date = kLeapDay;
  return message;
}

std::vector<std::string> SplitCrlf(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end = text.find("\r\n"); end != std::string_view::npos;
       end = text.find("\r\n", start)) {
    lines.emplace_back(text.substr(start, end - start));
    start = end + 2;
  }
  lines.emplace_back(text.substr(start));
  return lines;
}

// The unfolded value of the first header called name, if any.
std::optional<std::string> Header(std::string_view message, std::string_view name) {
  const std::string_view head = message.substr(0, message.find("\r\n\r\n"));
  const std::string prefix = std::string(name) + ":";
  std::optional<std::string> value;
  for (const std::string& line : SplitCrlf(head)) {
    if (value && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      *value += line;
    } else if (value) {
      break;
    } else if (line.starts_with(prefix)) {
      value = line.substr(prefix.size() + 1);
    }
  }
  return value;
}

std::string DecodeBase64(std::string_view text) {
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

// Decodes a header value made only of B encoded-words separated by whitespace, checking that
// each word is at most 75 characters and holds whole UTF-8 sequences.
std::string DecodeEncodedWords(std::string_view value) {
  std::string out;
  size_t start = 0;
  while ((start = value.find("=?UTF-8?B?", start)) != std::string_view::npos) {
    const size_t end = value.find("?=", start + 10);
    EXPECT_NE(end, std::string_view::npos);
    EXPECT_LE(end + 2 - start, 75u);
    const std::string chunk = DecodeBase64(value.substr(start + 10, end - start - 10));
    EXPECT_TRUE(core::IsValidUtf8(chunk)) << "encoded-word splits a UTF-8 sequence";
    out += chunk;
    start = end + 2;
  }
  return out;
}

std::string DecodeQuotedPrintable(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

// The encoded body of the part whose Content-Type starts with content_type.
std::string PartBody(std::string_view message, std::string_view content_type) {
  const size_t type = message.find("Content-Type: " + std::string(content_type));
  const size_t start = message.find("\r\n\r\n", type) + 4;
  size_t end = message.find("\r\n--=_", start);
  if (end == std::string_view::npos) end = message.size() - 2;  // single part: final CRLF
  return std::string(message.substr(start, end - start));
}

TEST(SerializeTest, WritesHeadersAndMultipartAlternative) {
  const std::string message = Serialize(SampleMessage());

  EXPECT_EQ(Header(message, "Date"), "Thu, 29 Feb 2024 12:34:56 +0000");
  EXPECT_EQ(Header(message, "From"), "Inkwell <noreply@inkwell.test>");
  EXPECT_EQ(Header(message, "To"), "ada@example.org");
  EXPECT_EQ(Header(message, "Subject"), "Welcome");
  EXPECT_EQ(Header(message, "Message-ID"), "<0b7c1d@inkwell>");
  EXPECT_EQ(Header(message, "MIME-Version"), "1.0");
  const std::string type = Header(message, "Content-Type").value_or("");
  ASSERT_TRUE(type.starts_with("multipart/alternative; boundary=\"=_")) << type;  // unfolded
  const std::string boundary = type.substr(type.find('"') + 1, type.size() - type.find('"') - 2);
  EXPECT_NE(message.find("\r\n--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(message.find("\r\n--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_TRUE(message.ends_with("\r\n--" + boundary + "--\r\n"));
  EXPECT_EQ(DecodeQuotedPrintable(PartBody(message, "text/plain")),
            "Hello Ada,\r\nconfirm here.\r\n");
  EXPECT_EQ(DecodeQuotedPrintable(PartBody(message, "text/html")),
            "<p>Hello Ada,</p>\r\n<p>confirm here.</p>\r\n");
}

TEST(SerializeTest, EmptyHtmlGivesSingleTextPart) {
  MimeMessage input = SampleMessage();
  input.html.clear();

  const std::string message = Serialize(input);

  EXPECT_EQ(Header(message, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Header(message, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(message.find("multipart"), std::string::npos);
  EXPECT_EQ(DecodeQuotedPrintable(PartBody(message, "text/plain")),
            "Hello Ada,\r\nconfirm here.\r\n");
}

TEST(SerializeTest, EveryLineEndsWithCrlf) {
  MimeMessage input = SampleMessage();
  input.text = "one\ntwo\rthree\r\nfour";
  input.html = "<b>\n</b>\r";

  const std::string message = Serialize(input);

  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n') {
      EXPECT_TRUE(i > 0 && message[i - 1] == '\r') << "bare LF at " << i;
    }
    if (message[i] == '\r') {
      EXPECT_TRUE(i + 1 < message.size() && message[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  EXPECT_TRUE(message.ends_with("\r\n"));
}

TEST(SerializeTest, BareLineFeedsInBodyBecomeCrlf) {
  MimeMessage input = SampleMessage();
  input.html.clear();
  input.text = "a\nb\rc\r\n\nd";

  const std::string message = Serialize(input);

  EXPECT_EQ(DecodeQuotedPrintable(PartBody(message, "text/plain")), "a\r\nb\r\nc\r\n\r\nd");
}

TEST(SerializeTest, QuotedPrintableLinesStayWithin76AndRoundTrip) {
  MimeMessage input = SampleMessage();
  input.html.clear();
  input.text = std::string(200, 'x') + "\n" + std::string(100, '=') + " \n" + "Grüße — 你好 " +
               std::string(80, 'y') + "\t\n.leading dot\n";

  const std::string message = Serialize(input);

  const std::string body = PartBody(message, "text/plain");
  for (const std::string& line : SplitCrlf(body)) {
    EXPECT_LE(line.size(), 76u) << line;
    EXPECT_FALSE(line.ends_with(" ") || line.ends_with("\t")) << line;
    EXPECT_FALSE(line.starts_with(".")) << line;
    for (const char c : line) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << line;
  }
  std::string expected = input.text;
  for (size_t at = expected.find('\n'); at != std::string::npos; at = expected.find('\n', at + 2)) {
    expected.replace(at, 1, "\r\n");
  }
  EXPECT_EQ(DecodeQuotedPrintable(body), expected);
}

TEST(QuotedPrintableTest, RandomLinesKeepEveryRuleAndRoundTrip) {
  // Lines of every length around the 76-column limit, of the characters the encoder treats
  // apart: dots (escaped at a line's start, also after a soft break), '=', blanks (escaped at a
  // line's end), bytes outside ASCII. Fixed seed: a failure repeats.
  const std::string alphabet = std::string("ab.= \t") + "\xc3\xa9" + "\x01";
  std::uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int round = 0; round < 400; ++round) {
    std::string text;
    const size_t length = next() % 240;
    for (size_t i = 0; i < length; ++i) text += alphabet[next() % alphabet.size()];
    const std::string encoded = EncodeQuotedPrintable(text);
    for (const std::string& line : SplitCrlf(encoded)) {
      EXPECT_LE(line.size(), 76u) << line;
      EXPECT_FALSE(line.ends_with(" ") || line.ends_with("\t")) << line;
      EXPECT_FALSE(line.starts_with(".")) << line;
      for (const char c : line) EXPECT_TRUE(c == '\t' || (c >= 0x20 && c <= 0x7e)) << line;
    }
    ASSERT_EQ(DecodeQuotedPrintable(encoded), text) << "round " << round;
  }
}

TEST(SerializeTest, BoundaryCannotOccurInParts) {
  MimeMessage input = SampleMessage();
  input.text = "--=_inkwell_0000\n=_inkwell_";

  const std::string message = Serialize(input);

  const std::string body = PartBody(message, "text/plain");
  EXPECT_EQ(body.find("=_"), std::string::npos);
  EXPECT_EQ(DecodeQuotedPrintable(body), "--=_inkwell_0000\r\n=_inkwell_");
}

TEST(SerializeTest, NonAsciiSubjectRoundTripsThroughEncodedWords) {
  MimeMessage input = SampleMessage();
  input.subject = "Grüße — 你好";

  const std::string message = Serialize(input);

  const std::string subject = Header(message, "Subject").value_or("");
  EXPECT_TRUE(subject.starts_with("=?UTF-8?B?")) << subject;
  EXPECT_EQ(DecodeEncodedWords(subject), input.subject);
}

TEST(SerializeTest, LongNonAsciiSubjectIsFoldedIntoShortEncodedWords) {
  MimeMessage input = SampleMessage();
  for (int i = 0; i < 20; ++i) input.subject += "Grüße — 你好 🎉 ";

  const std::string message = Serialize(input);

  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  for (const std::string& line : SplitCrlf(head)) EXPECT_LE(line.size(), 78u) << line;
  EXPECT_EQ(DecodeEncodedWords(Header(message, "Subject").value_or("")), input.subject);
}

TEST(SerializeTest, LongAsciiSubjectIsFoldedAtWhitespace) {
  MimeMessage input = SampleMessage();
  for (int i = 0; i < 30; ++i) input.subject += "word" + std::to_string(i) + " ";
  input.subject += "end";

  const std::string message = Serialize(input);

  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  int subject_lines = 0;
  bool in_subject = false;
  for (const std::string& line : SplitCrlf(head)) {
    EXPECT_LE(line.size(), 78u) << line;
    in_subject = line.starts_with("Subject:") || (in_subject && line.starts_with(" "));
    subject_lines += in_subject ? 1 : 0;
  }
  EXPECT_GT(subject_lines, 1);
  EXPECT_EQ(Header(message, "Subject"), input.subject);
}

TEST(SerializeTest, LineBreaksInHeaderInputCannotAddHeaders) {
  MimeMessage input = SampleMessage();
  input.subject = "Hi\r\nBcc: victim@example.org";
  input.to = "ada@example.org\nBcc: other@example.org";
  input.from = "Eve\r\nX-Evil: 1 <eve@example.org>";
  input.message_id = "id@x\r\nX-Injected: yes";

  const std::string message = Serialize(input);

  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  for (const std::string& line : SplitCrlf(head)) {
    EXPECT_FALSE(line.starts_with("Bcc") || line.starts_with("X-")) << line;
  }
  EXPECT_EQ(Header(message, "Subject"), "Hi  Bcc: victim@example.org");
}

TEST(SerializeTest, EncodesOnlyTheDisplayNameOfAMailbox) {
  MimeMessage input = SampleMessage();
  input.from = "Jürgen Müller <jm@example.de>";
  input.to = "\"Lovelace, Ada\" <ada@example.org>";

  const std::string message = Serialize(input);

  const std::string from = Header(message, "From").value_or("");
  EXPECT_TRUE(from.starts_with("=?UTF-8?B?")) << from;
  EXPECT_TRUE(from.ends_with(" <jm@example.de>")) << from;
  EXPECT_EQ(DecodeEncodedWords(from), "Jürgen Müller");
  EXPECT_EQ(Header(message, "To"), "\"Lovelace, Ada\" <ada@example.org>");
}

TEST(SerializeTest, EmptyMessageIdGetsAFreshOne) {
  MimeMessage input = SampleMessage();
  input.message_id.clear();

  const std::string id = Header(Serialize(input), "Message-ID").value_or("");

  EXPECT_TRUE(id.starts_with("<") && id.ends_with("@inkwell>")) << id;
  EXPECT_GT(id.size(), 20u);
}

TEST(EnvelopeAddressTest, StripsDisplayNameAndBrackets) {
  EXPECT_EQ(EnvelopeAddress("Ada Lovelace <ada@example.org>"), "ada@example.org");
  EXPECT_EQ(EnvelopeAddress("\"Lovelace, Ada\" <ada@example.org>"), "ada@example.org");
  EXPECT_EQ(EnvelopeAddress("<ada@example.org>"), "ada@example.org");
  EXPECT_EQ(EnvelopeAddress("  ada@example.org \r\n"), "ada@example.org");
}

TEST(EncodeBase64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
  EXPECT_EQ(EncodeBase64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace inkwell::mail
