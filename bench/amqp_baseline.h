#pragma once

// Shared by the rabbitmq-c baselines: open a connection with channel 1, fail loudly.
// These programs are measuring sticks, not services: any error ends the process (exit 1).

#include <amqp.h>

#include <chrono>
#include <string>

#include "flags.h"  // Flag, for the programs that include this

namespace inkwell::bench {

// Connects to host:port, logs in as user/password on vhost "/", opens channel 1.
amqp_connection_state_t OpenChannel(const std::string& host, int port, const std::string& user,
                                    const std::string& password);

// Exits with a message naming `what` unless `reply` is a normal reply.
void CheckReply(const amqp_rpc_reply_t& reply, const char* what);

// Closes channel 1 and the connection and frees the state; errors ignored.
void Close(amqp_connection_state_t connection);

// Seconds since an arbitrary fixed point (steady clock).
double NowSeconds();

}  // namespace inkwell::bench
