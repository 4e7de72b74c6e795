#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <stdexcept>

#include "core/error.h"
#include "http/http_message.h"

namespace inkwell::web {

// True if the Content-Type's media type (before any ';' parameter) is media_type, ignoring case.
bool HasMediaType(const http::HttpRequest& request, std::string_view media_type);
// "/posts/12/edit" -> {"posts", "12", "edit"}; empty segments are skipped.
std::vector<std::string> PathSegments(std::string_view path);
// A positive decimal id without sign or leading zeros, below 10^18; nullopt otherwise.
std::optional<std::int64_t> ParsePositiveId(std::string_view text);
// ?page=N&per_page=M of a listing (both optional): page 1..kMaxPageNumber, per_page
// 1..kMaxPerPage.
inline constexpr std::int64_t kMaxPageNumber = 100000;
inline constexpr std::int64_t kMaxPerPage = 100;
struct Paging {
  std::int64_t page = 1;
  std::int64_t per_page = 20;
  std::int64_t offset() const { return (page - 1) * per_page; }
};
// nullopt if the query is malformed or a value is out of range.
std::optional<Paging> ParsePaging(const std::string& query, std::int64_t default_per_page);
// The field's value, or "" when the form lacks it.
std::string FormField(const std::map<std::string, std::string>& form, const std::string& name);

// Thrown by a handler on a worker pool when the database cannot be reached: answered 503 with
// Retry-After (WebApp::Offload), never 500.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Throws StoreUnavailable for kUnavailable, std::runtime_error (a 500) for anything else.
[[noreturn]] void ThrowStoreError(const core::Error& error, const std::string& what);

}  // namespace inkwell::web
