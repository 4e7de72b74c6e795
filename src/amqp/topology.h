#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/connection.h"
#include "core/error.h"

namespace inkwell::amqp {

// Names other services rely on (docs/asyncapi.yaml): keep them exactly.
inline constexpr char kEmailExchange[] = "email";
inline constexpr char kEmailQueue[] = "email";
inline constexpr char kEmailSendKey[] = "send";
inline constexpr char kEmailDeadQueue[] = "email.dead";
inline constexpr char kEventsExchange[] = "events";
inline constexpr char kCacheExchange[] = "cache";
inline constexpr char kLogsExchange[] = "logs";
// inkwell-logd's queue, bound to `logs` with "#": records wait here while logd is down.
inline constexpr char kLogdQueue[] = "logd";

// Publish-subscribe exchanges (events, cache, logs): a message nobody is subscribed to is not
// an error there, unlike a command on `email`, which must reach its queue.
bool IsBroadcastExchange(std::string_view exchange);

struct TopologyOptions {
  // Work queues as quorum queues (INKWELL_QUORUM=1, for clusters), with an explicit delivery
  // limit and at-least-once dead-lettering. Classic durable queues otherwise.
  bool is_quorum = false;
};

// The delayed-retry queues, shortest first: email.retry.5s, .30s, .5m, .30m.
struct RetryStep {
  std::string queue;
  std::chrono::seconds delay;
};
const std::vector<RetryStep>& EmailRetrySteps();

// Declares every exchange, queue and binding of DESIGN.md's table, idempotently: a service
// calls it after each (re)connect. kInvalidArgument if a queue already exists with other
// arguments (PRECONDITION_FAILED), naming the queue.
core::Result<void> DeclareTopology(Connection& connection, const TopologyOptions& options);

}  // namespace inkwell::amqp
