#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amqp/broker_url.h"
#include "amqp/message.h"
#include "core/error.h"

struct amqp_connection_state_t_;  // from <amqp.h>, included only by connection.cc

namespace inkwell::amqp {

struct ConnectionOptions {
  std::chrono::seconds heartbeat{10};
  std::chrono::milliseconds connect_timeout{5000};
  std::string name;  // shown in the broker's management UI as connection_name
};

// A queue or exchange argument (x-message-ttl, x-dead-letter-exchange, ...).
struct Argument {
  std::string key;
  std::variant<std::string, std::int64_t> value;
};

struct QueueStats {
  std::uint32_t message_count = 0;
  std::uint32_t consumer_count = 0;
};

// One AMQP connection with one channel (number 1), heartbeats on. Move-only; closing happens
// in the destructor. NOT thread-safe: one thread owns a connection (rabbitmq-c is not
// thread-safe per connection and answers heartbeats only while it reads), so the owner must
// call NextEvent at least every heartbeat/2 while idle.
//
// Every method fails with kUnavailable when the connection or the channel is gone (socket
// error, heartbeat timeout, broker closed it); the connection is then unusable and the owner
// opens a new one. kInvalidArgument when the broker refuses a declaration or the login.
class Connection {
 public:
  // Connects, logs in, opens channel 1.
  static core::Result<Connection> Open(const BrokerUrl& url, const ConnectionOptions& options);
  bool is_broken() const { return is_broken_; }

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  core::Result<void> DeclareExchange(const std::string& name, const std::string& type);
  core::Result<void> DeclareQueue(const std::string& name, const std::vector<Argument>& arguments,
                                  bool is_exclusive = false);
  core::Result<void> BindQueue(const std::string& queue, const std::string& exchange,
                               const std::string& routing_key);
  // Passive declare: message and consumer count. kNotFound if the queue does not exist (the
  // broker then closes the channel, so the connection is unusable afterwards).
  core::Result<QueueStats> InspectQueue(const std::string& name);
  // Removes every ready message; returns how many.
  core::Result<std::uint32_t> PurgeQueue(const std::string& name);
  // basic.get with manual ack: the next ready message, or nullopt if the queue is empty. The
  // message stays unacked (invisible to others) until Ack/Reject or the connection closes,
  // which returns it to the queue.
  core::Result<std::optional<Delivery>> Get(const std::string& queue);

  // Puts the channel in confirm mode: publishes are then numbered 1, 2, ... and each is
  // settled by a Confirm event.
  core::Result<void> EnableConfirms();
  // Sends one message. Returns its publish sequence number (meaningful in confirm mode). The
  // message is the broker's only when its Confirm arrives with is_ack and no Returned preceded it.
  core::Result<std::uint64_t> Publish(const std::string& exchange, const std::string& routing_key,
                                      const Message& message, bool is_mandatory);

  core::Result<void> SetPrefetch(std::uint16_t count);
  // Starts a consumer with manual acknowledgement. Returns the consumer tag.
  core::Result<std::string> Consume(const std::string& queue);
  core::Result<void> CancelConsumer(const std::string& consumer_tag);
  core::Result<void> Ack(std::uint64_t delivery_tag);
  // One basic.ack with multiple=true: acks every unacked delivery on the channel up to and
  // including delivery_tag, which must itself be unacked (else the broker closes the channel).
  core::Result<void> AckUpTo(std::uint64_t delivery_tag);
  // requeue=false dead-letters the message if its queue has a dead-letter exchange.
  core::Result<void> Reject(std::uint64_t delivery_tag, bool requeue);

  // True when the broker has sent more than has been read as events: NextEvent would return
  // at once, without waiting or a system call.
  bool HasBufferedInput() const;

  // Waits up to timeout for the next delivery, confirm or return, servicing heartbeats
  // meanwhile. Returns nullopt on timeout, or early when wake_fd (if >= 0) becomes readable
  // (after reading an event the broker had already sent, if any).
  core::Result<std::optional<Event>> NextEvent(std::chrono::milliseconds timeout,
                                               int wake_fd = -1);

  std::uint64_t next_publish_sequence() const { return next_publish_sequence_; }

 private:
  struct Closer {
    void operator()(amqp_connection_state_t_* state) const noexcept;
  };
  explicit Connection(amqp_connection_state_t_* state);
  core::Result<void> CheckRpc(const char* call);
  core::Result<std::optional<Event>> ReadEvent();
  core::Error Broken(std::string message);


  std::unique_ptr<amqp_connection_state_t_, Closer> state_;
  std::chrono::seconds heartbeat_{10};
  bool is_broken_ = false;
  bool is_confirm_mode_ = false;
  std::uint64_t next_publish_sequence_ = 1;
};

}  // namespace inkwell::amqp
