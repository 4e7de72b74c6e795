#include "mail/resolve.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <sys/socket.h>

namespace inkwell::mail {
namespace {

core::Error LookupFailed(std::string text) {
  return core::Error{core::ErrorCode::kUnavailable, std::move(text)};
}

// What the lookup thread and its caller share; whichever is last frees it (shared_ptr).
struct PendingLookup {
  std::mutex mutex;
  std::condition_variable answered;
  bool is_answered = false;
  bool is_abandoned = false;  // the caller's deadline passed: the thread frees the result
  int status = 0;
  addrinfo* found = nullptr;
};

}  // namespace

core::Result<AddressList> ResolveWithin(const std::string& host, std::uint16_t port,
                                        std::chrono::steady_clock::time_point deadline,
                                        const Lookup& lookup) {
  const std::string service = std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo numeric_hints = hints;
  numeric_hints.ai_flags |= AI_NUMERICHOST;  // never asks a name server
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), service.c_str(), &numeric_hints, &found) == 0) {
    return AddressList(found);
  }
  auto pending = std::make_shared<PendingLookup>();
  try {
    std::thread([pending, lookup, host, service, hints] {
      addrinfo* result = nullptr;
      const int status = lookup(host.c_str(), service.c_str(), &hints, &result);
      const std::lock_guard lock(pending->mutex);
      if (pending->is_abandoned) {
        if (status == 0 && result != nullptr) ::freeaddrinfo(result);
        return;
      }
      pending->status = status;
      pending->found = status == 0 ? result : nullptr;
      pending->is_answered = true;
      pending->answered.notify_one();
    }).detach();
  } catch (const std::system_error& error) {
    return tl::unexpected(LookupFailed("resolve " + host + ": cannot start a lookup: " + error.what()));
  }
  std::unique_lock lock(pending->mutex);
  if (!pending->answered.wait_until(lock, deadline, [&] { return pending->is_answered; })) {
    pending->is_abandoned = true;
    return tl::unexpected(LookupFailed("resolve " + host + ": no answer from the name service in time"));
  }
  if (pending->status != 0) {
    return tl::unexpected(LookupFailed("resolve " + host + ": " + ::gai_strerror(pending->status)));
  }
  if (pending->found == nullptr) return tl::unexpected(LookupFailed("resolve " + host + ": no address"));
  return AddressList(pending->found);
}

}  // namespace inkwell::mail
