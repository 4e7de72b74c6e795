#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace inkwell::db {

// The mailer's record of message_ids it has delivered, for de-duplication of redelivered and
// re-published messages. Thread-safe.
class DeliveryLog {
 public:
  virtual ~DeliveryLog() = default;
  virtual core::Result<bool> Contains(const std::string& message_id) = 0;
  // Durable when it returns (the transaction committed). Recording twice is not an error.
  virtual core::Result<void> Record(const std::string& message_id) = 0;
  // Records every id in one transaction (one fsync for the lot): all are durable when it
  // returns, or, on an error, none may be.
  virtual core::Result<void> RecordAll(const std::vector<std::string>& message_ids) = 0;
};

// sqlite:PATH (the directory is created if missing).
core::Result<std::unique_ptr<DeliveryLog>> OpenDeliveryLog(const std::string& url);

}  // namespace inkwell::db
