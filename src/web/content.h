#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "db/store.h"

namespace inkwell::web {

inline constexpr std::size_t kMaxTitleCharacters = 200;
inline constexpr std::size_t kMaxSlugBytes = 100;
inline constexpr std::size_t kMaxBodyBytes = 60000;
inline constexpr std::size_t kMaxCommentCharacters = 5000;

// Lower-case letters and digits in groups joined by single hyphens, 1-100 bytes ("about-us").
bool IsValidSlug(std::string_view slug);
// kInvalidArgument with a message fit to show, naming the field.
core::Result<void> ValidatePage(const db::PageInput& input);
core::Result<void> ValidatePost(const db::PostInput& input);
core::Result<void> ValidateComment(std::string_view body);

// Unix milliseconds as RFC 3339 UTC ("2026-11-28T10:41:01.123Z"), and for people ("28 Nov 2026").
std::string Rfc3339(std::int64_t unix_ms);
std::string HumanDate(std::int64_t unix_ms);

// The JSON API's representations (docs/openapi.yaml).
nlohmann::json PageJson(const db::Page& page, bool with_body);
nlohmann::json PostJson(const db::Post& post, bool with_body);
nlohmann::json CommentJson(const db::Comment& comment);

// Outbox messages. Domain events go to the `events` topic exchange with the type as routing
// key; cache invalidations to the `cache` fanout exchange (docs/asyncapi.yaml).
db::OutboxMessage PageUpdatedEvent(const db::Page& page, const std::string& previous_slug,
                                   const std::string& traceparent);
db::OutboxMessage PageDeletedEvent(const db::Page& page, const std::string& traceparent);
db::OutboxMessage PostPublishedEvent(const db::Post& post, const std::string& traceparent);
db::OutboxMessage CommentCreatedEvent(const db::Comment& comment, const std::string& traceparent);
db::OutboxMessage UserConfirmedEvent(const db::User& user, const std::string& traceparent);
db::OutboxMessage CacheInvalidation(std::vector<std::string> keys, const std::string& traceparent);

// Cache keys (see PageCache).
std::string PageKey(std::string_view slug);
std::string PostKey(std::int64_t id);
inline constexpr char kHomeKeys[] = "home:*";
inline constexpr char kPagesKeys[] = "pages:*";

}  // namespace inkwell::web
