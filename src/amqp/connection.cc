#include "amqp/connection.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace inkwell::amqp {
namespace {

using core::ErrorCode;
using Clock = std::chrono::steady_clock;
constexpr amqp_channel_t kChannel = 1;
constexpr char kCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

amqp_bytes_t Bytes(const std::string& text) {
  return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

std::string ToString(amqp_bytes_t bytes) {
  return bytes.len == 0 ? std::string() : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

// An amqp_table_t whose keys and values point into strings that outlive it.
class Table {
 public:
  explicit Table(const std::vector<Argument>& arguments) {
    entries_.reserve(arguments.size());
    for (const auto& argument : arguments) {
      amqp_table_entry_t entry{};
      entry.key = Bytes(argument.key);
      if (const auto* text = std::get_if<std::string>(&argument.value)) {
        entry.value.kind = AMQP_FIELD_KIND_UTF8;
        entry.value.value.bytes = Bytes(*text);
      } else {
        entry.value.kind = AMQP_FIELD_KIND_I64;
        entry.value.value.i64 = std::get<std::int64_t>(argument.value);
      }
      entries_.push_back(entry);
    }
  }
  amqp_table_t get() {
    return amqp_table_t{static_cast<int>(entries_.size()), entries_.empty() ? nullptr : entries_.data()};
  }

 private:
  std::vector<amqp_table_entry_t> entries_;
};

std::string FieldText(const amqp_field_value_t& value) {
  switch (value.kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: return ToString(value.value.bytes);
    case AMQP_FIELD_KIND_I8: return std::to_string(value.value.i8);
    case AMQP_FIELD_KIND_U8: return std::to_string(value.value.u8);
    case AMQP_FIELD_KIND_I16: return std::to_string(value.value.i16);
    case AMQP_FIELD_KIND_U16: return std::to_string(value.value.u16);
    case AMQP_FIELD_KIND_I32: return std::to_string(value.value.i32);
    case AMQP_FIELD_KIND_U32: return std::to_string(value.value.u32);
    case AMQP_FIELD_KIND_I64: return std::to_string(value.value.i64);
    case AMQP_FIELD_KIND_U64: return std::to_string(value.value.u64);
    case AMQP_FIELD_KIND_BOOLEAN: return value.value.boolean != 0 ? "true" : "false";
    default: return {};  // tables, arrays, decimals: not used in our contracts
  }
}

Message FromAmqp(const amqp_message_t& raw) {
  Message message;
  const amqp_basic_properties_t& properties = raw.properties;
  const auto has = [&](amqp_flags_t flag) { return (properties._flags & flag) != 0; };
  if (has(AMQP_BASIC_MESSAGE_ID_FLAG)) message.message_id = ToString(properties.message_id);
  if (has(AMQP_BASIC_TYPE_FLAG)) message.type = ToString(properties.type);
  if (has(AMQP_BASIC_APP_ID_FLAG)) message.app_id = ToString(properties.app_id);
  message.content_type =
      has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? ToString(properties.content_type) : std::string();
  if (has(AMQP_BASIC_TIMESTAMP_FLAG)) message.timestamp = static_cast<std::int64_t>(properties.timestamp);
  message.is_persistent = has(AMQP_BASIC_DELIVERY_MODE_FLAG) && properties.delivery_mode == 2;
  if (has(AMQP_BASIC_HEADERS_FLAG)) {
    for (int i = 0; i < properties.headers.num_entries; ++i) {
      const amqp_table_entry_t& entry = properties.headers.entries[i];
      message.headers.emplace_back(ToString(entry.key), FieldText(entry.value));
    }
  }
  message.body = ToString(raw.body);
  return message;
}

std::string ServerCloseText(const amqp_method_t& method) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    const auto* close = static_cast<const amqp_connection_close_t*>(method.decoded);
    return "broker closed the connection: " + std::to_string(close->reply_code) + " " +
           ToString(close->reply_text);
  }
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    const auto* close = static_cast<const amqp_channel_close_t*>(method.decoded);
    return "broker closed the channel: " + std::to_string(close->reply_code) + " " +
           ToString(close->reply_text);
  }
  return "unexpected method from the broker";
}

std::uint16_t ServerReplyCode(const amqp_method_t& method) {
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    return static_cast<const amqp_connection_close_t*>(method.decoded)->reply_code;
  }
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    return static_cast<const amqp_channel_close_t*>(method.decoded)->reply_code;
  }
  return 0;
}

// Answers the broker's close so that it can free the channel or connection at once.
void AcknowledgeClose(amqp_connection_state_t state, const amqp_method_t& method, amqp_channel_t channel) {
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    amqp_channel_close_ok_t close_ok{};
    amqp_send_method(state, channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
  } else if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    amqp_connection_close_ok_t close_ok{};
    amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
  }
}

}  // namespace

void Connection::Closer::operator()(amqp_connection_state_t_* state) const noexcept {
  amqp_destroy_connection(state);
}

Connection::Connection(amqp_connection_state_t_* state) : state_(state) {}
Connection::Connection(Connection&& other) noexcept = default;
Connection& Connection::operator=(Connection&& other) noexcept = default;

Connection::~Connection() {
  if (state_ && !is_broken_) {
    // A polite close lets the broker requeue our unacked deliveries at once; bounded, so a
    // hung broker cannot stall shutdown.
    timeval close_timeout{2, 0};
    amqp_set_rpc_timeout(state_.get(), &close_timeout);
    amqp_connection_close(state_.get(), AMQP_REPLY_SUCCESS);
  }
}

core::Error Connection::Broken(std::string message) {
  is_broken_ = true;
  return core::Error{ErrorCode::kUnavailable, std::move(message)};
}

core::Result<Connection> Connection::Open(const BrokerUrl& url, const ConnectionOptions& options) {
  Connection connection(amqp_new_connection());
  if (!connection.state_) return core::Fail(ErrorCode::kInternal, "amqp_new_connection failed");
  connection.heartbeat_ = options.heartbeat;
  amqp_connection_state_t state = connection.state_.get();
  amqp_socket_t* socket = nullptr;
  if (url.is_tls) {
    socket = amqp_ssl_socket_new(state);
    if (socket != nullptr) amqp_ssl_socket_set_cacert(socket, kCaBundle);
  } else {
    socket = amqp_tcp_socket_new(state);
  }
  if (socket == nullptr) return core::Fail(ErrorCode::kInternal, "amqp_tcp_socket_new failed");

  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(options.connect_timeout);
  timeval timeout{static_cast<time_t>(micros.count() / 1000000),
                  static_cast<suseconds_t>(micros.count() % 1000000)};
  const int status = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &timeout);
  if (status != AMQP_STATUS_OK) {
    connection.is_broken_ = true;
    return core::Fail(ErrorCode::kUnavailable, "amqp_socket_open " + url.host + ":" +
                                                   std::to_string(url.port) + ": " +
                                                   amqp_error_string2(status));
  }
  // Bounds every synchronous call (declare, close) so a hung broker cannot hang us.
  timeval rpc_timeout{30, 0};
  amqp_set_rpc_timeout(state, &rpc_timeout);

  const std::string name_key = "connection_name";
  amqp_table_entry_t name_entry{};
  name_entry.key = Bytes(name_key);
  name_entry.value.kind = AMQP_FIELD_KIND_UTF8;
  name_entry.value.value.bytes = Bytes(options.name);
  amqp_table_t properties{options.name.empty() ? 0 : 1, &name_entry};
  const amqp_rpc_reply_t login = amqp_login_with_properties(
      state, url.vhost.c_str(), 0, 131072, static_cast<int>(options.heartbeat.count()), &properties,
      AMQP_SASL_METHOD_PLAIN, url.user.c_str(), url.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    connection.is_broken_ = true;
    if (login.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        login.library_error == AMQP_STATUS_CONNECTION_CLOSED) {
      return core::Fail(ErrorCode::kUnavailable, "amqp_login: connection closed (broker starting?)");
    }
    if (login.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
      return core::Fail(ErrorCode::kInvalidArgument,
                        "amqp_login as " + url.user + ": " + ServerCloseText(login.reply));
    }
    return core::Fail(ErrorCode::kUnavailable,
                      std::string("amqp_login: ") + amqp_error_string2(login.library_error));
  }
  amqp_channel_open(state, kChannel);
  if (auto opened = connection.CheckRpc("amqp_channel_open"); !opened) {
    return tl::unexpected(opened.error());
  }
  return connection;
}

core::Result<void> Connection::CheckRpc(const char* call) {
  const amqp_rpc_reply_t reply = amqp_get_rpc_reply(state_.get());
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL: return {};
    case AMQP_RESPONSE_NONE:
      return tl::unexpected(Broken(std::string(call) + ": no reply from the broker"));
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return tl::unexpected(Broken(std::string(call) + ": " + amqp_error_string2(reply.library_error)));
    case AMQP_RESPONSE_SERVER_EXCEPTION: break;
  }
  AcknowledgeClose(state_.get(), reply.reply, kChannel);
  const std::uint16_t code = ServerReplyCode(reply.reply);
  core::Error error = Broken(std::string(call) + ": " + ServerCloseText(reply.reply));
  if (code == AMQP_NOT_FOUND) error.code = ErrorCode::kNotFound;
  if (code == AMQP_PRECONDITION_FAILED || code == AMQP_ACCESS_REFUSED) {
    error.code = ErrorCode::kInvalidArgument;
  }
  return tl::unexpected(std::move(error));
}

core::Result<void> Connection::DeclareExchange(const std::string& name, const std::string& type) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_exchange_declare(state_.get(), kChannel, Bytes(name), Bytes(type), /*passive=*/0,
                        /*durable=*/1, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  return CheckRpc(("exchange.declare " + name).c_str());
}

core::Result<void> Connection::DeclareQueue(const std::string& name,
                                            const std::vector<Argument>& arguments,
                                            bool is_exclusive) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  Table table(arguments);
  amqp_queue_declare(state_.get(), kChannel, Bytes(name), /*passive=*/0,
                     /*durable=*/is_exclusive ? 0 : 1, is_exclusive ? 1 : 0,
                     /*auto_delete=*/is_exclusive ? 1 : 0, table.get());
  return CheckRpc(("queue.declare " + name).c_str());
}

core::Result<void> Connection::BindQueue(const std::string& queue, const std::string& exchange,
                                         const std::string& routing_key) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_queue_bind(state_.get(), kChannel, Bytes(queue), Bytes(exchange), Bytes(routing_key),
                  amqp_empty_table);
  return CheckRpc(("queue.bind " + queue).c_str());
}

core::Result<QueueStats> Connection::InspectQueue(const std::string& name) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const amqp_queue_declare_ok_t* ok = amqp_queue_declare(
      state_.get(), kChannel, Bytes(name), /*passive=*/1, 0, 0, 0, amqp_empty_table);
  if (auto checked = CheckRpc(("queue.declare passive " + name).c_str()); !checked) {
    return tl::unexpected(checked.error());
  }
  return QueueStats{ok->message_count, ok->consumer_count};
}

core::Result<std::uint32_t> Connection::PurgeQueue(const std::string& name) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const amqp_queue_purge_ok_t* ok = amqp_queue_purge(state_.get(), kChannel, Bytes(name));
  if (auto checked = CheckRpc(("queue.purge " + name).c_str()); !checked) {
    return tl::unexpected(checked.error());
  }
  return ok->message_count;
}

core::Result<std::optional<Delivery>> Connection::Get(const std::string& queue) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_connection_state_t state = state_.get();
  amqp_maybe_release_buffers(state);
  const amqp_rpc_reply_t reply = amqp_basic_get(state, kChannel, Bytes(queue), /*no_ack=*/0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    if (auto checked = CheckRpc(("basic.get " + queue).c_str()); !checked) {
      return tl::unexpected(checked.error());
    }
  }
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::optional<Delivery>();
  const auto* get_ok = static_cast<const amqp_basic_get_ok_t*>(reply.reply.decoded);
  Delivery delivery;
  delivery.delivery_tag = get_ok->delivery_tag;
  delivery.is_redelivered = get_ok->redelivered != 0;
  delivery.exchange = ToString(get_ok->exchange);
  delivery.routing_key = ToString(get_ok->routing_key);
  amqp_message_t raw{};
  const amqp_rpc_reply_t read = amqp_read_message(state, kChannel, &raw, 0);
  if (read.reply_type != AMQP_RESPONSE_NORMAL) {
    return tl::unexpected(Broken("amqp_read_message: could not read a fetched message"));
  }
  delivery.message = FromAmqp(raw);
  amqp_destroy_message(&raw);
  return std::optional<Delivery>(std::move(delivery));
}

core::Result<void> Connection::EnableConfirms() {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_confirm_select(state_.get(), kChannel);
  if (auto checked = CheckRpc("confirm.select"); !checked) return checked;
  is_confirm_mode_ = true;
  next_publish_sequence_ = 1;
  return {};
}

core::Result<std::uint64_t> Connection::Publish(const std::string& exchange,
                                                const std::string& routing_key,
                                                const Message& message, bool is_mandatory) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_basic_properties_t properties{};
  properties._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  properties.delivery_mode = message.is_persistent ? 2 : 1;
  const auto set = [&](amqp_flags_t flag, amqp_bytes_t& field, const std::string& value) {
    if (value.empty()) return;
    properties._flags |= flag;
    field = Bytes(value);
  };
  set(AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type, message.content_type);
  set(AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id, message.message_id);
  set(AMQP_BASIC_TYPE_FLAG, properties.type, message.type);
  set(AMQP_BASIC_APP_ID_FLAG, properties.app_id, message.app_id);
  if (message.timestamp != 0) {
    properties._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    properties.timestamp = static_cast<std::uint64_t>(message.timestamp);
  }
  std::vector<Argument> header_arguments;
  header_arguments.reserve(message.headers.size());
  for (const auto& [key, value] : message.headers) header_arguments.push_back({key, value});
  Table headers(header_arguments);
  if (!header_arguments.empty()) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = headers.get();
  }
  const int status = amqp_basic_publish(state_.get(), kChannel, Bytes(exchange), Bytes(routing_key),
                                        is_mandatory ? 1 : 0, 0, &properties, Bytes(message.body));
  if (status != AMQP_STATUS_OK) {
    return tl::unexpected(Broken(std::string("amqp_basic_publish: ") + amqp_error_string2(status)));
  }
  return is_confirm_mode_ ? next_publish_sequence_++ : 0;
}

core::Result<void> Connection::SetPrefetch(std::uint16_t count) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_basic_qos(state_.get(), kChannel, 0, count, 0);
  return CheckRpc("basic.qos");
}

core::Result<std::string> Connection::Consume(const std::string& queue) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const amqp_basic_consume_ok_t* ok = amqp_basic_consume(
      state_.get(), kChannel, Bytes(queue), amqp_empty_bytes, /*no_local=*/0, /*no_ack=*/0,
      /*exclusive=*/0, amqp_empty_table);
  if (auto checked = CheckRpc(("basic.consume " + queue).c_str()); !checked) {
    return tl::unexpected(checked.error());
  }
  return ToString(ok->consumer_tag);
}

core::Result<void> Connection::CancelConsumer(const std::string& consumer_tag) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_basic_cancel(state_.get(), kChannel, Bytes(consumer_tag));
  return CheckRpc("basic.cancel");
}

core::Result<void> Connection::Ack(std::uint64_t delivery_tag) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const int status = amqp_basic_ack(state_.get(), kChannel, delivery_tag, 0);
  if (status != AMQP_STATUS_OK) {
    return tl::unexpected(Broken(std::string("amqp_basic_ack: ") + amqp_error_string2(status)));
  }
  return {};
}

core::Result<void> Connection::AckUpTo(std::uint64_t delivery_tag) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const int status = amqp_basic_ack(state_.get(), kChannel, delivery_tag, /*multiple=*/1);
  if (status != AMQP_STATUS_OK) {
    return tl::unexpected(Broken(std::string("amqp_basic_ack: ") + amqp_error_string2(status)));
  }
  return {};
}

core::Result<void> Connection::Reject(std::uint64_t delivery_tag, bool requeue) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  const int status = amqp_basic_reject(state_.get(), kChannel, delivery_tag, requeue ? 1 : 0);
  if (status != AMQP_STATUS_OK) {
    return tl::unexpected(Broken(std::string("amqp_basic_reject: ") + amqp_error_string2(status)));
  }
  return {};
}

bool Connection::HasBufferedInput() const {
  if (is_broken_) return false;
  amqp_connection_state_t state = state_.get();
  return amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0;
}

core::Result<std::optional<Event>> Connection::NextEvent(std::chrono::milliseconds timeout,
                                                         int wake_fd) {
  if (is_broken_) return core::Fail(ErrorCode::kUnavailable, "connection is closed");
  amqp_connection_state_t state = state_.get();
  // Earlier events were copied out, so the decoding pool can be recycled now.
  amqp_maybe_release_buffers(state);
  const auto deadline = Clock::now() + timeout;
  // rabbitmq-c sends heartbeats only from inside its read calls: read at least this often.
  const auto heartbeat_slice = std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat_) / 4;
  for (;;) {
    if (amqp_frames_enqueued(state) == 0 && amqp_data_in_buffer(state) == 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto wait = std::clamp(left, std::chrono::milliseconds(0), heartbeat_slice);
      pollfd fds[2] = {{amqp_get_sockfd(state), POLLIN, 0}, {wake_fd, POLLIN, 0}};
      const int ready = ::poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(wait.count()));
      if (ready < 0 && errno != EINTR) {
        return tl::unexpected(Broken(std::string("poll: ") + std::strerror(errno)));
      }
      // Woken: return, but read what the broker already sent first, or a caller woken more
      // often than it loops (a relay handed rows faster than it publishes) would never read
      // its confirms and heartbeats.
      if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0 && (fds[0].revents & POLLIN) == 0) {
        return std::optional<Event>();
      }
    }
    auto event = ReadEvent();
    if (!event) return event;
    if (event->has_value()) return event;
    if (Clock::now() >= deadline) return std::optional<Event>();
  }
}

core::Result<std::optional<Event>> Connection::ReadEvent() {
  amqp_connection_state_t state = state_.get();
  amqp_frame_t frame{};
  timeval immediately{0, 0};
  const int status = amqp_simple_wait_frame_noblock(state, &frame, &immediately);
  if (status == AMQP_STATUS_TIMEOUT) return std::optional<Event>();
  if (status != AMQP_STATUS_OK) {
    return tl::unexpected(Broken(std::string("amqp_simple_wait_frame: ") + amqp_error_string2(status)));
  }
  if (frame.frame_type != AMQP_FRAME_METHOD) return std::optional<Event>();
  const amqp_method_t& method = frame.payload.method;
  switch (method.id) {
    case AMQP_BASIC_ACK_METHOD: {
      const auto* ack = static_cast<const amqp_basic_ack_t*>(method.decoded);
      return std::optional<Event>(Confirm{ack->delivery_tag, ack->multiple != 0, true});
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<const amqp_basic_nack_t*>(method.decoded);
      return std::optional<Event>(Confirm{nack->delivery_tag, nack->multiple != 0, false});
    }
    case AMQP_BASIC_DELIVER_METHOD: {
      const auto* deliver = static_cast<const amqp_basic_deliver_t*>(method.decoded);
      Delivery delivery;
      delivery.delivery_tag = deliver->delivery_tag;
      delivery.is_redelivered = deliver->redelivered != 0;
      delivery.exchange = ToString(deliver->exchange);
      delivery.routing_key = ToString(deliver->routing_key);
      amqp_message_t raw{};
      const amqp_rpc_reply_t reply = amqp_read_message(state, frame.channel, &raw, 0);
      if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        return tl::unexpected(Broken("amqp_read_message: could not read a delivery's content"));
      }
      delivery.message = FromAmqp(raw);
      amqp_destroy_message(&raw);
      return std::optional<Event>(std::move(delivery));
    }
    case AMQP_BASIC_RETURN_METHOD: {
      const auto* returned_method = static_cast<const amqp_basic_return_t*>(method.decoded);
      Returned returned;
      returned.reply_code = returned_method->reply_code;
      returned.reply_text = ToString(returned_method->reply_text);
      returned.exchange = ToString(returned_method->exchange);
      returned.routing_key = ToString(returned_method->routing_key);
      amqp_message_t raw{};
      const amqp_rpc_reply_t reply = amqp_read_message(state, frame.channel, &raw, 0);
      if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        return tl::unexpected(Broken("amqp_read_message: could not read a returned message"));
      }
      returned.message = FromAmqp(raw);
      amqp_destroy_message(&raw);
      return std::optional<Event>(std::move(returned));
    }
    case AMQP_BASIC_CANCEL_METHOD:
      return tl::unexpected(Broken("the broker cancelled our consumer (queue deleted?)"));
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD: {
      AcknowledgeClose(state, method, frame.channel);
      return tl::unexpected(Broken(ServerCloseText(method)));
    }
    default: return std::optional<Event>();
  }
}

}  // namespace inkwell::amqp
