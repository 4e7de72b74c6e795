#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/error.h"
#include "http/http_message.h"

namespace inkwell::http {

// An HTTP/1.1 server (Boost.Beast) on a fixed pool of I/O threads. Requests with a body over
// kMaxBodyBytes reach the handler with is_body_too_large set and the connection closes after
// the answer. A connection is closed when a read or a write on it has not completed within
// idle_timeout (a client that sends nothing, or does not read its answer); the time the handler
// takes to answer does not count. kInvalidArgument for an idle_timeout that is not positive.
class HttpServer {
 public:
  // Binds host:port (port 0 picks a free one). kInvalidArgument for a malformed address,
  // kUnavailable if it cannot bind.
  static core::Result<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                         unsigned io_threads, Handler handler,
                                                         std::chrono::milliseconds idle_timeout =
                                                             std::chrono::seconds(30));
  ~HttpServer();  // stops accepting, closes connections, joins the threads

  unsigned short port() const;
  // Stops accepting and running; idempotent.
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkwell::http
