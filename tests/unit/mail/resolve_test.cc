#include "mail/resolve.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace inkwell::mail {
namespace {

using Clock = std::chrono::steady_clock;

// A name service that answers (with 127.0.0.1) only when the test lets it, and says when it has
// returned. The lookup owns it too (a shared_ptr in the function the lookup thread copies), so a
// thread left behind never touches a destroyed one.
struct HeldNameService {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> returned;
  std::future<void> has_returned = returned.get_future();
  std::atomic<int> calls{0};
};

Lookup HeldLookup(const std::shared_ptr<HeldNameService>& service) {
  return [service](const char*, const char* port, const addrinfo* hints, addrinfo** found) {
    ++service->calls;
    service->released.wait();
    addrinfo numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    const int status = ::getaddrinfo("127.0.0.1", port, &numeric, found);
    service->returned.set_value();
    return status;
  };
}

std::string FirstAddress(const AddressList& addresses) {
  if (!addresses || addresses->ai_family != AF_INET) return "";
  char text[INET_ADDRSTRLEN] = {};
  const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(addresses->ai_addr);
  ::inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof text);
  return text;
}

TEST(ResolveWithinTest, ANumericAddressAsksNoNameService) {
  bool is_asked = false;
  const Lookup refuse = [&](const char*, const char*, const addrinfo*, addrinfo**) {
    is_asked = true;
    return EAI_FAIL;
  };

  auto resolved = ResolveWithin("127.0.0.1", 25, Clock::now() + std::chrono::seconds(1), refuse);

  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(FirstAddress(*resolved), "127.0.0.1");
  EXPECT_FALSE(is_asked);
}

TEST(ResolveWithinTest, ANameServiceThatDoesNotAnswerInTimeIsLeftBehind) {
  auto service = std::make_shared<HeldNameService>();
  const auto started = Clock::now();

  auto resolved = ResolveWithin("mail.example.org", 25, started + std::chrono::milliseconds(100),
                                HeldLookup(service));
  const auto took = Clock::now() - started;
  service->release.set_value();  // the lookup answers now; its thread frees the result
  const bool is_finished =
      service->has_returned.wait_for(std::chrono::seconds(10)) == std::future_status::ready;

  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(resolved.error().message.find("mail.example.org"), std::string::npos)
      << resolved.error().message;
  EXPECT_GE(took, std::chrono::milliseconds(100));
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_TRUE(is_finished);
  EXPECT_EQ(service->calls.load(), 1);
}

TEST(ResolveWithinTest, AnAnswerInTimeIsReturned) {
  auto service = std::make_shared<HeldNameService>();
  service->release.set_value();

  auto resolved = ResolveWithin("mail.example.org", 587, Clock::now() + std::chrono::seconds(10),
                                HeldLookup(service));

  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(FirstAddress(*resolved), "127.0.0.1");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>((*resolved)->ai_addr)->sin_port), 587);
  EXPECT_EQ(service->has_returned.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST(ResolveWithinTest, AnUnknownNameSaysSo) {
  const Lookup unknown = [](const char*, const char*, const addrinfo*, addrinfo**) {
    return EAI_NONAME;
  };

  auto resolved = ResolveWithin("no-such-host.invalid", 25, Clock::now() + std::chrono::seconds(5),
                                unknown);

  ASSERT_FALSE(resolved);
  EXPECT_EQ(resolved.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(resolved.error().message.find(::gai_strerror(EAI_NONAME)), std::string::npos)
      << resolved.error().message;
  EXPECT_NE(resolved.error().message.find("no-such-host.invalid"), std::string::npos);
}

}  // namespace
}  // namespace inkwell::mail
