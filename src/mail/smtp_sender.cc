#include "mail/smtp_sender.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "core/c_handle.h"

namespace inkwell::mail {
namespace {

using CurlEasy = core::CHandle<CURL, curl_easy_cleanup>;
using CurlList = core::CHandle<curl_slist, curl_slist_free_all>;

// curl_global_init is not thread-safe: run it once, before the first handle.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// The serialized message that CURLOPT_READFUNCTION hands to curl in pieces.
struct Upload {
  std::string_view remaining;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user_data) {
  auto* upload = static_cast<Upload*>(user_data);
  const size_t length = std::min(size * count, upload->remaining.size());
  std::memcpy(buffer, upload->remaining.data(), length);
  upload->remaining.remove_prefix(length);
  return length;
}

std::string BaseUrl(const MailUrl& url) {
  std::string text = url.scheme == MailUrl::Scheme::kSmtps ? "smtps://" : "smtp://";
  const bool is_ipv6 = url.host.find(':') != std::string::npos;
  text += is_ipv6 ? "[" + url.host + "]" : url.host;
  text += ":" + std::to_string(url.port);
  return text;
}

curl_usessl UseSslFor(const MailUrl& url) {
  if (url.scheme == MailUrl::Scheme::kSmtps) return CURLUSESSL_ALL;
  switch (url.starttls) {
    case MailUrl::StartTls::kNone: return CURLUSESSL_NONE;
    case MailUrl::StartTls::kOptional: return CURLUSESSL_TRY;
    case MailUrl::StartTls::kRequired: return CURLUSESSL_ALL;
  }
  return CURLUSESSL_ALL;
}

}  // namespace

struct SmtpSender::State {
  CurlEasy curl;
  std::string url;  // scheme, host and port only: safe to put in error messages
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
};

SmtpSender::SmtpSender(std::unique_ptr<State> state) : state_(std::move(state)) {}

SmtpSender::~SmtpSender() = default;

core::Result<std::unique_ptr<SmtpSender>> SmtpSender::Create(const MailUrl& url,
                                                             std::chrono::seconds timeout) {
  if (url.scheme == MailUrl::Scheme::kMaildir) {
    return core::Fail(core::ErrorCode::kInvalidArgument, "SmtpSender: not an smtp(s) URL");
  }
  if (const CURLcode init = GlobalInit(); init != CURLE_OK) {
    return core::Fail(core::ErrorCode::kInternal,
                      std::string("curl_global_init: ") + curl_easy_strerror(init));
  }
  auto state = std::make_unique<State>();
  state->curl.reset(curl_easy_init());
  if (!state->curl) return core::Fail(core::ErrorCode::kInternal, "curl_easy_init failed");
  state->url = BaseUrl(url);
  CURL* curl = state->curl.get();
  const long timeout_seconds = static_cast<long>(std::max<int64_t>(timeout.count(), 1));
  // These options hold for the handle's lifetime; Send sets only the per-message ones.
  CURLcode result = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (result == CURLE_OK) result = curl_easy_setopt(curl, option, value);
  };
  set(CURLOPT_URL, state->url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  set(CURLOPT_ERRORBUFFER, state->error_buffer.data());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT, timeout_seconds);
  set(CURLOPT_TIMEOUT, timeout_seconds);
  set(CURLOPT_USE_SSL, static_cast<long>(UseSslFor(url)));
  set(CURLOPT_UPLOAD, 1L);
  set(CURLOPT_READFUNCTION, &ReadUpload);
  if (!url.user.empty()) {
    set(CURLOPT_USERNAME, url.user.c_str());  // curl copies option strings
    set(CURLOPT_PASSWORD, url.password.c_str());
  }
  if (result != CURLE_OK) {
    return core::Fail(core::ErrorCode::kInternal,
                      std::string("curl_easy_setopt: ") + curl_easy_strerror(result));
  }
  return std::unique_ptr<SmtpSender>(new SmtpSender(std::move(state)));
}

core::Result<void> SmtpSender::Send(const MimeMessage& message) {
  CURL* curl = state_->curl.get();
  const std::string data = Serialize(message);
  const std::string from = "<" + EnvelopeAddress(message.from) + ">";
  const CurlList recipients(
      curl_slist_append(nullptr, ("<" + EnvelopeAddress(message.to) + ">").c_str()));
  if (!recipients) return core::Fail(core::ErrorCode::kInternal, "curl_slist_append failed");
  Upload upload{data};
  state_->error_buffer[0] = '\0';

  CURLcode result = curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  if (result == CURLE_OK) result = curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.get());
  if (result == CURLE_OK) result = curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  if (result == CURLE_OK) {
    result = curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  }
  if (result != CURLE_OK) {
    return core::Fail(core::ErrorCode::kInternal,
                      std::string("curl_easy_setopt: ") + curl_easy_strerror(result));
  }
  result = curl_easy_perform(curl);
  // The list and the upload die with this call; leave the handle pointing at neither.
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_READDATA, static_cast<void*>(nullptr));

  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  last_connects_ = connects;
  if (result == CURLE_OK) return {};

  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  const std::string_view detail =
      state_->error_buffer[0] != '\0' ? state_->error_buffer.data() : curl_easy_strerror(result);
  std::string text = "curl_easy_perform " + state_->url + ": ";
  text += reply != 0 ? "SMTP " + std::to_string(reply) : "no SMTP reply";
  text += ": ";
  text += detail;
  // A 5xx reply rejects this message for good, but rejected credentials are the operator's
  // problem, not the message's: retry those, so mail waits for the fix instead of dying.
  const bool is_permanent = reply >= 500 && reply < 600 && result != CURLE_LOGIN_DENIED;
  return core::Fail(
      is_permanent ? core::ErrorCode::kInvalidArgument : core::ErrorCode::kUnavailable,
      std::move(text));
}

}  // namespace inkwell::mail
