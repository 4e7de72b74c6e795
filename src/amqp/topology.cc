#include "amqp/topology.h"

namespace inkwell::amqp {
namespace {

// A quorum queue redelivers a message at most this often before dead-lettering it, so a
// message that crashes every consumer cannot loop forever (RabbitMQ 3.10 has no default).
constexpr std::int64_t kQuorumDeliveryLimit = 20;

std::vector<Argument> WorkQueueArguments(const TopologyOptions& options) {
  if (!options.is_quorum) return {};
  return {{"x-queue-type", std::string("quorum")},
          {"x-delivery-limit", kQuorumDeliveryLimit},
          {"x-dead-letter-strategy", std::string("at-least-once")},
          {"x-overflow", std::string("reject-publish")}};
}

}  // namespace

bool IsBroadcastExchange(std::string_view exchange) {
  return exchange == kEventsExchange || exchange == kCacheExchange || exchange == kLogsExchange;
}

const std::vector<RetryStep>& EmailRetrySteps() {
  static const std::vector<RetryStep> steps = {
      {"email.retry.5s", std::chrono::seconds(5)},
      {"email.retry.30s", std::chrono::seconds(30)},
      {"email.retry.5m", std::chrono::minutes(5)},
      {"email.retry.30m", std::chrono::minutes(30)},
  };
  return steps;
}

core::Result<void> DeclareTopology(Connection& connection, const TopologyOptions& options) {
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {kEmailExchange, "direct"},
           {kEventsExchange, "topic"},
           {kCacheExchange, "fanout"},
           {kLogsExchange, "topic"}}) {
    if (auto declared = connection.DeclareExchange(name, type); !declared) return declared;
  }

  // Rejected (and, for quorum queues, over-delivered) messages land in email.dead through the
  // default exchange, so nothing the mailer refuses is ever dropped.
  std::vector<Argument> email_arguments = WorkQueueArguments(options);
  email_arguments.push_back({"x-dead-letter-exchange", std::string("")});
  email_arguments.push_back({"x-dead-letter-routing-key", std::string(kEmailDeadQueue)});
  if (auto declared = connection.DeclareQueue(kEmailQueue, email_arguments); !declared) {
    return declared;
  }
  for (const char* key : {kEmailSendKey, ""}) {
    if (auto bound = connection.BindQueue(kEmailQueue, kEmailExchange, key); !bound) return bound;
  }
  if (auto declared = connection.DeclareQueue(kEmailDeadQueue, WorkQueueArguments(options));
      !declared) {
    return declared;
  }
  // A per-queue TTL, not a per-message one: a message expires only at the head of its queue,
  // so mixing delays in one queue would hold short ones behind long ones.
  for (const RetryStep& step : EmailRetrySteps()) {
    std::vector<Argument> retry_arguments = WorkQueueArguments(options);
    retry_arguments.push_back(
        {"x-message-ttl",
         static_cast<std::int64_t>(std::chrono::milliseconds(step.delay).count())});
    retry_arguments.push_back({"x-dead-letter-exchange", std::string(kEmailExchange)});
    retry_arguments.push_back({"x-dead-letter-routing-key", std::string(kEmailSendKey)});
    if (auto declared = connection.DeclareQueue(step.queue, retry_arguments); !declared) {
      return declared;
    }
  }
  // Log records wait for inkwell-logd here. Bounded, so a logd that never comes back costs at
  // most this much broker memory and disk (the oldest records go first).
  constexpr std::int64_t kLogdQueueBytes = 256LL * 1024 * 1024;
  if (auto declared = connection.DeclareQueue(kLogdQueue, {{"x-max-length-bytes", kLogdQueueBytes}});
      !declared) {
    return declared;
  }
  if (auto bound = connection.BindQueue(kLogdQueue, kLogsExchange, "#"); !bound) return bound;
  return {};
}

}  // namespace inkwell::amqp
