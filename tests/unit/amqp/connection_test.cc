#include "amqp/connection.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "amqp/confirmed_publisher.h"
#include "amqp/topology.h"

namespace inkwell::amqp {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A TCP port on 127.0.0.1 that nothing listens on right now.
std::uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

// The broker for this program: INKWELL_TEST_AMQP_URL, or a private node started once here and
// stopped at the end.
class BrokerEnvironment : public ::testing::Environment {
 public:
  static bool IsAvailable() { return url_.has_value(); }
  static const BrokerUrl& Url() { return url_.value(); }

  void SetUp() override {
    if (const char* given = std::getenv("INKWELL_TEST_AMQP_URL"); given != nullptr && *given) {
      auto url = BrokerUrl::Parse(given);
      ASSERT_TRUE(url) << url.error().message;
      url_ = *url;
      return;
    }
    std::string pattern = (fs::temp_directory_path() / "inkwell-amqp-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    const std::uint16_t port = FreePort();
    ASSERT_NE(port, 0);
    const std::string command = Quoted(INKWELL_RABBITMQ_NODE_SCRIPT) + " start --dir " +
                                Quoted(dir_.string()) + " --port " + std::to_string(port);
    is_started_ = true;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    auto url = BrokerUrl::Parse("amqp://guest:guest@127.0.0.1:" + std::to_string(port) + "/");
    ASSERT_TRUE(url) << url.error().message;
    url_ = *url;
  }

  void TearDown() override {
    if (dir_.empty()) return;
    if (is_started_) {
      const std::string command =
          Quoted(INKWELL_RABBITMQ_NODE_SCRIPT) + " stop --dir " + Quoted(dir_.string());
      EXPECT_EQ(std::system(command.c_str()), 0) << command;
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

 private:
  static inline std::optional<BrokerUrl> url_;
  fs::path dir_;
  bool is_started_ = false;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!BrokerEnvironment::IsAvailable()) GTEST_SKIP() << "no broker: could not start one";
  }

  // A connection with the topology declared and the named queues emptied.
  // nullopt (with a failure recorded) if that is impossible.
  static std::optional<Connection> OpenClean(std::initializer_list<const char*> queues = {kEmailQueue}) {
    auto connection = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
    EXPECT_TRUE(connection) << connection.error().message;
    if (!connection) return std::nullopt;
    auto declared = DeclareTopology(*connection, TopologyOptions{});
    EXPECT_TRUE(declared) << declared.error().message;
    if (!declared) return std::nullopt;
    for (const char* queue : queues) {
      auto purged = connection->PurgeQueue(queue);
      EXPECT_TRUE(purged) << purged.error().message;
      if (!purged) return std::nullopt;
    }
    return std::move(*connection);
  }

  static std::uint32_t MessagesIn(Connection& connection, const std::string& queue) {
    auto stats = connection.InspectQueue(queue);
    EXPECT_TRUE(stats) << stats.error().message;
    return stats ? stats->message_count : 0;
  }

  // Polls until queue holds expected messages or 5 s pass; the final count.
  static std::uint32_t WaitForMessages(Connection& connection, const std::string& queue,
                                       std::uint32_t expected) {
    std::uint32_t count = 0;
    for (int i = 0; i < 50; ++i) {
      count = MessagesIn(connection, queue);
      if (count == expected) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return count;
  }

  static OutgoingMessage SendMessage(const std::string& id, const std::string& routing_key) {
    OutgoingMessage outgoing;
    outgoing.exchange = kEmailExchange;
    outgoing.routing_key = routing_key;
    outgoing.message.message_id = id;
    outgoing.message.type = "email.send";
    outgoing.message.app_id = "inkwell-test";
    outgoing.message.headers = {{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                                {"x-test", id}};
    outgoing.message.body = R"({"to": "ada@example.org", "template": "welcome", "n": ")" + id + "\"}";
    return outgoing;
  }

  // Publishes batch with confirms on a fresh confirm-mode connection; the outcomes.
  static PublishReport Publish(std::vector<OutgoingMessage>& batch) {
    auto connection = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
    EXPECT_TRUE(connection) << connection.error().message;
    if (!connection) return {};
    auto confirms = connection->EnableConfirms();
    EXPECT_TRUE(confirms) << confirms.error().message;
    return PublishConfirmed(*connection, batch, 256, milliseconds(30000));
  }

  // The next Delivery within 5 s, or nullopt.
  static std::optional<Delivery> NextDelivery(Connection& connection) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      auto event = connection.NextEvent(milliseconds(200));
      EXPECT_TRUE(event) << event.error().message;
      if (!event) return std::nullopt;
      if (event->has_value()) {
        if (auto* delivery = std::get_if<Delivery>(&**event)) return std::move(*delivery);
      }
    }
    return std::nullopt;
  }
};

TEST_F(ConnectionTest, OpenAndDeclareTopologyIsIdempotent) {
  auto first = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{seconds(10), milliseconds(5000), "test-1"});
  ASSERT_TRUE(first) << first.error().message;

  auto once = DeclareTopology(*first, TopologyOptions{});
  auto twice = DeclareTopology(*first, TopologyOptions{});
  auto second = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
  ASSERT_TRUE(second) << second.error().message;
  auto again = DeclareTopology(*second, TopologyOptions{});

  EXPECT_TRUE(once) << once.error().message;
  EXPECT_TRUE(twice) << twice.error().message;
  EXPECT_TRUE(again) << again.error().message;
  EXPECT_FALSE(first->is_broken());
  EXPECT_FALSE(second->is_broken());
}

TEST_F(ConnectionTest, ConfirmsThousandPublishesAndQueuesThemAll) {
  std::optional<Connection> inspector = OpenClean();
  ASSERT_TRUE(inspector);
  std::vector<OutgoingMessage> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(SendMessage("confirm-" + std::to_string(i), kEmailSendKey));

  const PublishReport report = Publish(batch);

  EXPECT_FALSE(report.error.has_value()) << report.error->message;
  ASSERT_EQ(report.outcomes.size(), 1000U);
  for (std::size_t i = 0; i < report.outcomes.size(); ++i) {
    EXPECT_EQ(report.outcomes[i], PublishOutcome::kConfirmed) << "message " << i;
  }
  EXPECT_EQ(WaitForMessages(*inspector, kEmailQueue, 1000), 1000U);
  EXPECT_TRUE(inspector->PurgeQueue(kEmailQueue));
}

TEST_F(ConnectionTest, PublishToUnboundRoutingKeyIsReturned) {
  std::optional<Connection> inspector = OpenClean();
  ASSERT_TRUE(inspector);
  std::vector<OutgoingMessage> batch = {SendMessage("routed", kEmailSendKey),
                                        SendMessage("unroutable", "nobody")};

  const PublishReport report = Publish(batch);

  EXPECT_FALSE(report.error.has_value()) << report.error->message;
  ASSERT_EQ(report.outcomes.size(), 2U);
  EXPECT_EQ(report.outcomes[0], PublishOutcome::kConfirmed);
  EXPECT_EQ(report.outcomes[1], PublishOutcome::kReturned);
  EXPECT_EQ(WaitForMessages(*inspector, kEmailQueue, 1), 1U);
  EXPECT_TRUE(inspector->PurgeQueue(kEmailQueue));
}

TEST_F(ConnectionTest, ConsumerReceivesPropertiesHeadersAndBodyAndAckRemovesThem) {
  std::optional<Connection> inspector = OpenClean();
  ASSERT_TRUE(inspector);
  std::vector<OutgoingMessage> batch = {SendMessage("consume-1", kEmailSendKey),
                                        SendMessage("consume-2", kEmailSendKey),
                                        SendMessage("consume-3", kEmailSendKey)};
  batch[0].message.timestamp = 1700000000;
  const PublishReport report = Publish(batch);
  ASSERT_FALSE(report.error.has_value()) << report.error->message;
  std::vector<Delivery> deliveries;

  {
    auto consumer = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
    ASSERT_TRUE(consumer) << consumer.error().message;
    ASSERT_TRUE(consumer->SetPrefetch(10));
    auto tag = consumer->Consume(kEmailQueue);
    ASSERT_TRUE(tag) << tag.error().message;
    EXPECT_FALSE(tag->empty());
    for (int i = 0; i < 3; ++i) {
      auto delivery = NextDelivery(*consumer);
      ASSERT_TRUE(delivery.has_value()) << "delivery " << i;
      deliveries.push_back(std::move(*delivery));
    }
    for (const Delivery& delivery : deliveries) {
      auto acked = consumer->Ack(delivery.delivery_tag);
      EXPECT_TRUE(acked) << acked.error().message;
    }
    EXPECT_TRUE(consumer->CancelConsumer(*tag));
  }  // closing would requeue anything left unacked

  ASSERT_EQ(deliveries.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    const Delivery& delivery = deliveries[i];
    const Message& sent = batch[i].message;
    EXPECT_EQ(delivery.exchange, kEmailExchange);
    EXPECT_EQ(delivery.routing_key, kEmailSendKey);
    EXPECT_FALSE(delivery.is_redelivered);
    EXPECT_EQ(delivery.message.message_id, sent.message_id);
    EXPECT_EQ(delivery.message.type, "email.send");
    EXPECT_EQ(delivery.message.app_id, "inkwell-test");
    EXPECT_EQ(delivery.message.content_type, "application/json");
    EXPECT_TRUE(delivery.message.is_persistent);
    EXPECT_EQ(delivery.message.Header("traceparent"), sent.Header("traceparent"));
    EXPECT_EQ(delivery.message.Header("x-test"), sent.message_id);
    EXPECT_EQ(delivery.message.body, sent.body);
  }
  EXPECT_EQ(deliveries[0].message.timestamp, 1700000000);
  EXPECT_EQ(MessagesIn(*inspector, kEmailQueue), 0U);
}

TEST_F(ConnectionTest, AckUpToAcksEveryUnackedDeliveryUpToTheTagAndNoneAfter) {
  std::optional<Connection> inspector = OpenClean();
  ASSERT_TRUE(inspector);
  std::vector<OutgoingMessage> batch;
  for (int i = 1; i <= 5; ++i) batch.push_back(SendMessage("multi-" + std::to_string(i), kEmailSendKey));
  const PublishReport report = Publish(batch);
  ASSERT_FALSE(report.error.has_value()) << report.error->message;
  {
    auto consumer = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
    ASSERT_TRUE(consumer) << consumer.error().message;
    ASSERT_TRUE(consumer->SetPrefetch(10));
    auto tag = consumer->Consume(kEmailQueue);
    ASSERT_TRUE(tag) << tag.error().message;
    std::vector<Delivery> deliveries;
    for (int i = 0; i < 5; ++i) {
      auto delivery = NextDelivery(*consumer);
      ASSERT_TRUE(delivery.has_value()) << "delivery " << i;
      deliveries.push_back(std::move(*delivery));
    }
    // The second is acked on its own first: a multiple-ack past an acked tag must still work.
    auto single = consumer->Ack(deliveries[1].delivery_tag);
    ASSERT_TRUE(single) << single.error().message;
    auto multiple = consumer->AckUpTo(deliveries[2].delivery_tag);
    ASSERT_TRUE(multiple) << multiple.error().message;
    // A round trip on the channel: the broker would have closed it on an unknown tag.
    auto cancelled = consumer->CancelConsumer(*tag);
    EXPECT_TRUE(cancelled) << cancelled.error().message;
  }  // closing requeues the two never acked

  std::vector<std::string> left;
  for (int i = 0; i < 5; ++i) {
    auto got = inspector->Get(kEmailQueue);
    ASSERT_TRUE(got) << got.error().message;
    if (!got->has_value()) break;
    left.push_back((*got)->message.message_id);
    ASSERT_TRUE(inspector->Ack((*got)->delivery_tag));
  }
  EXPECT_EQ(left, (std::vector<std::string>{batch[3].message.message_id, batch[4].message.message_id}));
}

TEST_F(ConnectionTest, RejectWithoutRequeueDeadLettersIntoEmailDead) {
  std::optional<Connection> inspector = OpenClean({kEmailQueue, kEmailDeadQueue});
  ASSERT_TRUE(inspector);
  std::vector<OutgoingMessage> batch = {SendMessage("poison", kEmailSendKey)};
  const PublishReport report = Publish(batch);
  ASSERT_FALSE(report.error.has_value()) << report.error->message;
  auto consumer = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
  ASSERT_TRUE(consumer) << consumer.error().message;
  ASSERT_TRUE(consumer->SetPrefetch(10));
  ASSERT_TRUE(consumer->Consume(kEmailQueue));
  auto delivery = NextDelivery(*consumer);
  ASSERT_TRUE(delivery.has_value());

  auto rejected = consumer->Reject(delivery->delivery_tag, /*requeue=*/false);

  EXPECT_TRUE(rejected) << rejected.error().message;
  EXPECT_EQ(WaitForMessages(*inspector, kEmailDeadQueue, 1), 1U);
  EXPECT_EQ(MessagesIn(*inspector, kEmailQueue), 0U);
  EXPECT_TRUE(inspector->PurgeQueue(kEmailDeadQueue));
}

TEST_F(ConnectionTest, InspectQueueOfUnknownQueueIsNotFound) {
  auto connection = Connection::Open(BrokerEnvironment::Url(), ConnectionOptions{});
  ASSERT_TRUE(connection) << connection.error().message;

  auto stats = connection->InspectQueue("inkwell.test.no-such-queue");

  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, core::ErrorCode::kNotFound);
}

TEST_F(ConnectionTest, OpenAgainstClosedPortIsUnavailable) {
  BrokerUrl url = BrokerEnvironment::Url();
  url.port = FreePort();

  auto connection = Connection::Open(url, ConnectionOptions{seconds(10), milliseconds(2000), ""});

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kUnavailable) << connection.error().message;
}

TEST_F(ConnectionTest, OpenWithWrongPasswordIsInvalidArgument) {
  BrokerUrl url = BrokerEnvironment::Url();
  url.password = "definitely-not-the-password";

  auto connection = Connection::Open(url, ConnectionOptions{});

  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error().code, core::ErrorCode::kInvalidArgument) << connection.error().message;
}

}  // namespace
}  // namespace inkwell::amqp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new inkwell::amqp::BrokerEnvironment);
  return RUN_ALL_TESTS();
}
