#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "http/http_message.h"

namespace inkwell::web {

inline constexpr std::string_view kSessionCookie = "inkwell_session";
inline constexpr std::string_view kCsrfCookie = "inkwell_csrf";
inline constexpr std::string_view kCsrfField = "csrf_token";
inline constexpr std::chrono::hours kSessionLifetime{24 * 14};
inline constexpr std::chrono::hours kConfirmationLifetime{48};

// 256 random bits (libsodium's CSPRNG), base64url without padding: 43 characters.
std::string NewSecretToken();
// How a token is stored: SHA-256 of its text, lower-case hex. The database never sees the token.
std::string HashToken(std::string_view token);
// Constant-time equality (sodium_memcmp); false at once if the lengths differ.
bool SecretEquals(std::string_view a, std::string_view b);
// True for what NewSecretToken makes (43 base64url characters): cheap rejection of junk.
bool LooksLikeToken(std::string_view token);

// name -> value from the request's Cookie header ("a=1; b=2"); malformed pairs are skipped.
std::map<std::string, std::string> ParseCookies(std::string_view header);
// The token of "Authorization: Bearer <token>", or empty.
std::string BearerToken(const http::HttpRequest& request);

// A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/, Secure when is_secure. max_age 0 deletes.
std::string CookieHeader(std::string_view name, std::string_view value,
                         std::chrono::seconds max_age, bool is_secure);

}  // namespace inkwell::web
