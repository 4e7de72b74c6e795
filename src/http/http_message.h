#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inkwell::http {

inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string path;    // target without the query
  std::string query;   // after '?', undecoded
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string client_address;
  bool is_body_too_large = false;  // the body exceeded kMaxBodyBytes and was not read

  std::string Header(const std::string& lower_case_name) const {
    const auto found = headers.find(lower_case_name);
    return found == headers.end() ? std::string() : found->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Answers a request exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
// Handles one request. Must not block: blocking work goes to a worker pool, which calls the
// responder when done.
using Handler = std::function<void(HttpRequest, Responder)>;

}  // namespace inkwell::http
