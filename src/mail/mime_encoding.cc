#include "mail/mime_encoding.h"

#include <array>

#include <algorithm>
#include <cstdint>

#include "core/utf8.h"

namespace inkwell::mail {
namespace {

constexpr size_t kMaxQuotedPrintableLine = 76;
constexpr size_t kMaxHeaderLine = 78;
constexpr size_t kMaxEncodedWord = 75;
constexpr std::string_view kEncodedWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kEncodedWordSuffix = "?=";
// Longer plain words could not be folded to kMaxHeaderLine, so such values are encoded instead.
constexpr size_t kMaxPlainWord = 64;
constexpr std::string_view kHexDigits = "0123456789ABCDEF";

bool IsWhitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsWhitespace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsWhitespace(text.back())) text.remove_suffix(1);
  return text;
}

bool IsPrintableAscii(char c) { return c >= 0x20 && c <= 0x7e; }

// RFC 5322 atext plus space: a phrase made of these needs no quoting.
bool IsPhraseChar(char c) {
  if (c == ' ' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// True if text cannot be written as plain header words: non-ASCII or control bytes, something
// that would be read as an encoded-word, or a word too long to fold.
bool NeedsEncodedWords(std::string_view text) {
  if (text.find("=?") != std::string_view::npos) return true;
  size_t word_length = 0;
  for (const char c : text) {
    if (c != '\t' && !IsPrintableAscii(c)) return true;
    word_length = IsWhitespace(c) ? 0 : word_length + 1;
    if (word_length > kMaxPlainWord) return true;
  }
  return false;
}

// Length of the UTF-8 sequence starting text; a malformed byte counts as one, so it is carried
// through (encoded) rather than dropped.
size_t SequenceLength(std::string_view text) {
  const size_t length = core::Utf8SequenceLength(text);
  return length == 0 ? 1 : length;
}

// Appends the quoted-printable form of one line (no line break in it) to out.
// Printable ASCII that stands for itself in quoted-printable: '!' to '~' except '='.
constexpr std::array<bool, 256> kIsQuotedPrintableLiteral = [] {
  std::array<bool, 256> table{};
  for (int byte = 33; byte <= 126; ++byte) table[static_cast<size_t>(byte)] = byte != '=';
  return table;
}();

// What may go unchanged anywhere but at a line's end: the literals, and blanks.
constexpr std::array<bool, 256> kIsQuotedPrintableRun = [] {
  std::array<bool, 256> table = kIsQuotedPrintableLiteral;
  table[' '] = true;
  table['\t'] = true;
  return table;
}();

void EncodeQuotedPrintableLine(std::string_view line, std::string& out) {
  // This runs for every byte of every mail: runs of bytes that stand for themselves are copied
  // whole, and only the rest goes through the rules one byte at a time.
  size_t column = 0;
  size_t i = 0;
  while (i < line.size()) {
    // A run: literal bytes and blanks that fit on this line before the room a soft break's '='
    // needs, not the line's last byte (a blank there is escaped), not a dot starting a line.
    const size_t stop = std::min(line.size() - 1, i + (kMaxQuotedPrintableLine - 1 - column));
    size_t run_end = i;
    if (!(column == 0 && line[i] == '.')) {
      while (run_end < stop && kIsQuotedPrintableRun[static_cast<unsigned char>(line[run_end])]) ++run_end;
    }
    if (run_end > i) {
      out.append(line.data() + i, run_end - i);
      column += run_end - i;
      i = run_end;
      continue;
    }
    const char c = line[i];
    const bool is_last = i + 1 == line.size();
    const auto byte = static_cast<unsigned char>(c);
    const bool is_literal = kIsQuotedPrintableLiteral[byte] && !(c == '.' && column == 0);
    const bool is_literal_space = IsWhitespace(c) && !is_last;
    const size_t token_length = (is_literal || is_literal_space) ? 1 : 3;
    // Leave room for the "=" of a soft break unless this is the line's last character.
    const size_t limit = is_last ? kMaxQuotedPrintableLine : kMaxQuotedPrintableLine - 1;
    if (column + token_length > limit) {
      out += "=\r\n";
      column = 0;
      continue;  // the same byte again, at the start of the next line
    }
    if (token_length == 1) {
      out += c;
      column += 1;
    } else {
      const char escaped[3] = {'=', kHexDigits[byte >> 4], kHexDigits[byte & 0x0f]};
      out.append(escaped, 3);
      column += 3;
    }
    ++i;
  }
}

}  // namespace

std::string EncodeBase64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                           static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += kAlphabet[(group >> 6) & 0x3f];
    out += kAlphabet[group & 0x3f];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(group >> 18) & 0x3f];
    out += kAlphabet[(group >> 12) & 0x3f];
    out += rest == 2 ? kAlphabet[(group >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

std::string EncodeQuotedPrintable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t start = 0;
  while (true) {
    // A plain scan: find_first_of calls memchr on its set for every character it passes.
    size_t end = start;
    while (end < text.size() && text[end] != '\r' && text[end] != '\n') ++end;
    EncodeQuotedPrintableLine(text.substr(start, end - start), out);
    if (end == text.size()) break;
    out += "\r\n";
    start = end + 1;
    if (text[end] == '\r' && start < text.size() && text[start] == '\n') ++start;
  }
  return out;
}

std::string StripLineBreaks(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

void HeaderWriter::Begin(std::string_view name) {
  out_ += name;
  out_ += ':';
  line_length_ = name.size() + 1;
  is_line_empty_ = true;
}

void HeaderWriter::End() { out_ += "\r\n"; }

void HeaderWriter::Append(std::string_view token) {
  // Fold before the token's leading whitespace; unfolding removes only the CRLF.
  if (!is_line_empty_ && line_length_ + token.size() > kMaxHeaderLine) {
    out_ += "\r\n";
    line_length_ = 0;
  }
  out_ += token;
  line_length_ += token.size();
  is_line_empty_ = false;
}

void HeaderWriter::AddToken(std::string_view token) {
  std::string spaced = " ";
  spaced += token;
  Append(spaced);
}

void HeaderWriter::AddText(std::string_view text) {
  if (NeedsEncodedWords(text)) {
    AddEncodedWords(text);
  } else {
    AddWords(text);
  }
}

// Each token is one word with the whitespace before it, so folding keeps the text exact.
void HeaderWriter::AddWords(std::string_view text) {
  size_t start = 0;
  bool is_first = true;
  while (start < text.size() || is_first) {
    size_t word = start;
    while (word < text.size() && IsWhitespace(text[word])) ++word;
    size_t end = word;
    while (end < text.size() && !IsWhitespace(text[end])) ++end;
    std::string token = is_first ? " " : "";
    token += text.substr(start, end - start);
    Append(token);
    start = end;
    is_first = false;
  }
}

void HeaderWriter::AddEncodedWords(std::string_view text) {
  constexpr size_t kOverhead = kEncodedWordPrefix.size() + kEncodedWordSuffix.size();
  // Smallest useful word: one 4-byte sequence is 8 base64 characters.
  constexpr size_t kMinWord = kOverhead + 8;
  while (!text.empty()) {
    size_t room = kMaxHeaderLine - std::min(kMaxHeaderLine, line_length_ + 1);
    if (room < kMinWord && !is_line_empty_) {
      out_ += "\r\n";
      line_length_ = 0;
      room = kMaxHeaderLine - 1;
    }
    room = std::max(std::min(room, kMaxEncodedWord), kMinWord);
    const size_t max_bytes = (room - kOverhead) / 4 * 3;
    size_t taken = 0;
    while (taken < text.size()) {
      const size_t length = SequenceLength(text.substr(taken));
      if (taken + length > max_bytes) break;
      taken += length;
    }
    std::string word = " ";
    word += kEncodedWordPrefix;
    word += EncodeBase64(text.substr(0, taken));
    word += kEncodedWordSuffix;
    out_ += word;
    line_length_ += word.size();
    is_line_empty_ = false;
    text.remove_prefix(taken);
  }
}

void HeaderWriter::AddMailbox(std::string_view value) {
  const Mailbox mailbox = ParseMailbox(value);
  if (mailbox.display_name.empty()) {
    AddToken(mailbox.address);
    return;
  }
  const std::string_view name = mailbox.display_name;
  const bool is_plain_phrase = std::all_of(name.begin(), name.end(), IsPhraseChar);
  if (NeedsEncodedWords(name) || (!is_plain_phrase && name.size() > kMaxPlainWord)) {
    AddEncodedWords(name);
  } else if (is_plain_phrase) {
    AddWords(name);
  } else {
    std::string quoted = "\"";
    for (const char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    AddToken(quoted);
  }
  AddToken("<" + mailbox.address + ">");
}

Mailbox ParseMailbox(std::string_view value) {
  const std::string clean = StripLineBreaks(value);
  const std::string_view text = Trim(clean);
  const size_t open = text.rfind('<');
  if (text.empty() || text.back() != '>' || open == std::string_view::npos) {
    return Mailbox{"", std::string(text)};
  }
  Mailbox mailbox;
  mailbox.address = std::string(Trim(text.substr(open + 1, text.size() - open - 2)));
  std::string_view name = Trim(text.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) ++i;
      mailbox.display_name += name[i];
    }
  } else {
    mailbox.display_name = std::string(name);
  }
  return mailbox;
}

}  // namespace inkwell::mail
