#include "web/request_util.h"

#include <cctype>
#include <charconv>

#include "http/form.h"

namespace inkwell::web {

bool HasMediaType(const http::HttpRequest& request, std::string_view media_type) {
  std::string value = request.Header("content-type");
  value = value.substr(0, value.find(';'));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value == media_type;
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const std::size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return segments;
}

std::optional<std::int64_t> ParsePositiveId(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.size() > 18 || text.front() == '0') return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::string FormField(const std::map<std::string, std::string>& form, const std::string& name) {
  const auto found = form.find(name);
  return found == form.end() ? std::string() : found->second;
}

void ThrowStoreError(const core::Error& error, const std::string& what) {
  if (error.code == core::ErrorCode::kUnavailable) throw StoreUnavailable(what + ": " + error.message);
  throw std::runtime_error(what + ": " + error.message);
}

std::optional<Paging> ParsePaging(const std::string& query, std::int64_t default_per_page) {
  Paging paging;
  paging.per_page = default_per_page;
  auto fields = http::ParseForm(query);
  if (!fields) return std::nullopt;
  if (auto found = fields->find("page"); found != fields->end()) {
    auto page = ParsePositiveId(found->second);
    if (!page || *page > kMaxPageNumber) return std::nullopt;
    paging.page = *page;
  }
  if (auto found = fields->find("per_page"); found != fields->end()) {
    auto per_page = ParsePositiveId(found->second);
    if (!per_page || *per_page > kMaxPerPage) return std::nullopt;
    paging.per_page = *per_page;
  }
  return paging;
}

}  // namespace inkwell::web
