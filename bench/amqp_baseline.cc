#include "amqp_baseline.h"

#include <amqp_tcp_socket.h>

#include <cstdio>
#include <cstdlib>

namespace inkwell::bench {

void CheckReply(const amqp_rpc_reply_t& reply, const char* what) {
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return;
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
    std::fprintf(stderr, "%s: %s\n", what, amqp_error_string2(reply.library_error));
  } else {
    std::fprintf(stderr, "%s: server error (method 0x%08x)\n", what, reply.reply.id);
  }
  std::exit(1);
}

amqp_connection_state_t OpenChannel(const std::string& host, int port, const std::string& user,
                                    const std::string& password) {
  amqp_connection_state_t connection = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(connection);
  if (socket == nullptr || amqp_socket_open(socket, host.c_str(), port) != AMQP_STATUS_OK) {
    std::fprintf(stderr, "amqp_socket_open: cannot connect to %s:%d\n", host.c_str(), port);
    std::exit(1);
  }
  CheckReply(amqp_login(connection, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, user.c_str(),
                        password.c_str()),
             "amqp_login");
  amqp_channel_open(connection, 1);
  CheckReply(amqp_get_rpc_reply(connection), "amqp_channel_open");
  return connection;
}

void Close(amqp_connection_state_t connection) {
  amqp_channel_close(connection, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(connection, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(connection);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace inkwell::bench
