#include "web/content.h"

#include <chrono>
#include <ctime>

#include "amqp/topology.h"
#include "core/ids.h"
#include "core/utf8.h"
#include "web/markdown.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

// Line breaks and tabs are text; other control characters are not.
bool HasControlCharacter(std::string_view text, bool allow_line_breaks) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (allow_line_breaks && (c == '\n' || c == '\r' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

core::Result<void> ValidateText(std::string_view field, std::string_view text, bool is_multiline,
                                std::size_t max_characters, std::size_t max_bytes) {
  const std::string name(field);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return core::Fail(ErrorCode::kInvalidArgument, name + " is required");
  }
  if (!core::IsValidUtf8(text)) {
    return core::Fail(ErrorCode::kInvalidArgument, name + " is not valid UTF-8");
  }
  if (text.size() > max_bytes) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      name + " is too long (at most " + std::to_string(max_bytes) + " bytes)");
  }
  if (max_characters > 0 && core::Utf8Length(text) > max_characters) {
    return core::Fail(ErrorCode::kInvalidArgument, name + " is too long (at most " +
                                                       std::to_string(max_characters) + " characters)");
  }
  if (HasControlCharacter(text, is_multiline)) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      name + (is_multiline ? " must not contain control characters"
                                           : " must be one line without control characters"));
  }
  return {};
}

Json Author(std::int64_t id, const std::string& name) { return {{"id", id}, {"name", name}}; }

db::OutboxMessage Event(std::string_view type, const Json& body, const std::string& traceparent) {
  return db::OutboxMessage{core::NewUuid(), amqp::kEventsExchange, std::string(type),
                           std::string(type), body.dump(-1, ' ', false, Json::error_handler_t::replace),
                           traceparent};
}

std::string NowRfc3339() {
  return Rfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

}  // namespace

bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > kMaxSlugBytes) return false;
  if (slug.front() == '-' || slug.back() == '-') return false;
  char previous = '\0';
  for (const char c : slug) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && previous == '-')) return false;
    previous = c;
  }
  return true;
}

core::Result<void> ValidatePage(const db::PageInput& input) {
  if (auto title = ValidateText("title", input.title, false, kMaxTitleCharacters, 1000); !title) {
    return title;
  }
  if (!IsValidSlug(input.slug)) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "slug must be 1-100 lower-case letters, digits and single hyphens "
                      "(like \"about-us\")");
  }
  return ValidateText("body", input.body, true, 0, kMaxBodyBytes);
}

core::Result<void> ValidatePost(const db::PostInput& input) {
  if (auto title = ValidateText("title", input.title, false, kMaxTitleCharacters, 1000); !title) {
    return title;
  }
  return ValidateText("body", input.body, true, 0, kMaxBodyBytes);
}

core::Result<void> ValidateComment(std::string_view body) {
  return ValidateText("comment", body, true, kMaxCommentCharacters, kMaxBodyBytes);
}

std::string Rfc3339(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return std::string(text, length) + millis;
}

std::string HumanDate(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t length = std::strftime(text, sizeof text, "%e %b %Y", &utc);
  std::string date(text, length);
  if (!date.empty() && date.front() == ' ') date.erase(0, 1);
  return date;
}

Json PageJson(const db::Page& page, bool with_body) {
  Json json = {{"slug", page.slug},
               {"title", page.title},
               {"author", Author(page.author_id, page.author_name)},
               {"created_at", Rfc3339(page.created_at_ms)},
               {"updated_at", Rfc3339(page.updated_at_ms)}};
  if (with_body) {
    json["body"] = page.body;
    json["html"] = RenderMarkdown(page.body);
  }
  return json;
}

Json PostJson(const db::Post& post, bool with_body) {
  Json json = {{"id", post.id},
               {"title", post.title},
               {"published", post.is_published},
               {"author", Author(post.author_id, post.author_name)},
               {"created_at", Rfc3339(post.created_at_ms)},
               {"updated_at", Rfc3339(post.updated_at_ms)},
               {"comment_count", post.comment_count}};
  if (with_body) {
    json["body"] = post.body;
    json["html"] = RenderMarkdown(post.body);
  }
  return json;
}

Json CommentJson(const db::Comment& comment) {
  return {{"id", comment.id},
          {"post_id", comment.post_id},
          {"body", comment.body},
          {"author", Author(comment.author_id, comment.author_name)},
          {"created_at", Rfc3339(comment.created_at_ms)}};
}

db::OutboxMessage PageUpdatedEvent(const db::Page& page, const std::string& previous_slug,
                                   const std::string& traceparent) {
  Json body = {{"id", page.id},          {"slug", page.slug},
               {"title", page.title},    {"author_id", page.author_id},
               {"updated_at", Rfc3339(page.updated_at_ms)}};
  if (!previous_slug.empty() && previous_slug != page.slug) body["previous_slug"] = previous_slug;
  return Event("page.updated", body, traceparent);
}

db::OutboxMessage PageDeletedEvent(const db::Page& page, const std::string& traceparent) {
  return Event("page.deleted",
               {{"id", page.id}, {"slug", page.slug}, {"deleted_at", NowRfc3339()}}, traceparent);
}

db::OutboxMessage PostPublishedEvent(const db::Post& post, const std::string& traceparent) {
  return Event("post.published",
               {{"id", post.id},
                {"title", post.title},
                {"author_id", post.author_id},
                {"published_at", Rfc3339(post.updated_at_ms)}},
               traceparent);
}

db::OutboxMessage CommentCreatedEvent(const db::Comment& comment, const std::string& traceparent) {
  return Event("comment.created",
               {{"id", comment.id},
                {"post_id", comment.post_id},
                {"author_id", comment.author_id},
                {"created_at", Rfc3339(comment.created_at_ms)}},
               traceparent);
}

db::OutboxMessage UserConfirmedEvent(const db::User& user, const std::string& traceparent) {
  return Event("user.confirmed",
               {{"user_id", user.id}, {"email", user.email}, {"confirmed_at", NowRfc3339()}},
               traceparent);
}

db::OutboxMessage CacheInvalidation(std::vector<std::string> keys, const std::string& traceparent) {
  const Json body = {{"keys", std::move(keys)}};
  return db::OutboxMessage{core::NewUuid(), amqp::kCacheExchange, "", "cache.invalidate",
                           body.dump(-1, ' ', false, Json::error_handler_t::replace), traceparent};
}

std::string PageKey(std::string_view slug) { return "page:" + std::string(slug); }
std::string PostKey(std::int64_t id) { return "post:" + std::to_string(id); }

}  // namespace inkwell::web
