#include "amqp/confirmed_publisher.h"

#include <map>
#include <unordered_map>

namespace inkwell::amqp {
namespace {

using Clock = std::chrono::steady_clock;

// Tracks which publish sequence numbers are still waiting for the broker.
class ConfirmBook {
 public:
  explicit ConfirmBook(PublishReport& report) : report_(report) {}

  void Sent(std::uint64_t sequence, std::size_t index) { pending_[sequence] = index; }
  void Returned(std::size_t index) { report_.outcomes[index] = PublishOutcome::kReturned; }
  std::size_t pending() const { return pending_.size(); }

  void Settle(const Confirm& confirm) {
    auto end = confirm.is_multiple ? pending_.upper_bound(confirm.delivery_tag)
                                    : pending_.find(confirm.delivery_tag);
    auto begin = confirm.is_multiple ? pending_.begin() : end;
    if (!confirm.is_multiple) {
      if (end == pending_.end()) return;
      ++end;
    }
    for (auto it = begin; it != end; ++it) {
      PublishOutcome& outcome = report_.outcomes[it->second];
      // A returned message is acked afterwards, but it reached no queue.
      if (outcome != PublishOutcome::kReturned) {
        outcome = confirm.is_ack ? PublishOutcome::kConfirmed : PublishOutcome::kNacked;
      }
    }
    pending_.erase(begin, end);
  }

 private:
  PublishReport& report_;
  std::map<std::uint64_t, std::size_t> pending_;
};

// Handles one event; false if the connection broke (report.error set).
bool Pump(Connection& connection, ConfirmBook& book,
          const std::unordered_map<std::string, std::size_t>& index_by_id,
          std::chrono::milliseconds wait, PublishReport& report) {
  auto event = connection.NextEvent(wait);
  if (!event) {
    report.error = event.error();
    return false;
  }
  if (!event->has_value()) return true;
  if (const auto* confirm = std::get_if<Confirm>(&**event)) {
    book.Settle(*confirm);
  } else if (const auto* returned = std::get_if<Returned>(&**event)) {
    if (auto found = index_by_id.find(returned->message.message_id); found != index_by_id.end()) {
      book.Returned(found->second);
    }
  }
  return true;
}

}  // namespace

PublishReport PublishConfirmed(Connection& connection, std::vector<OutgoingMessage>& batch,
                               std::size_t window, std::chrono::milliseconds confirm_timeout) {
  PublishReport report;
  report.outcomes.assign(batch.size(), PublishOutcome::kUnsettled);
  ConfirmBook book(report);
  std::unordered_map<std::string, std::size_t> index_by_id;
  index_by_id.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) index_by_id[batch[i].message.message_id] = i;

  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto deadline = Clock::now() + confirm_timeout;
    while (book.pending() >= window) {
      if (!Pump(connection, book, index_by_id, std::chrono::milliseconds(100), report)) return report;
      if (Clock::now() > deadline) {
        report.error = core::Error{core::ErrorCode::kUnavailable, "publisher confirms timed out"};
        return report;
      }
    }
    OutgoingMessage& outgoing = batch[i];
    outgoing.message.is_persistent = true;
    auto sequence = connection.Publish(outgoing.exchange, outgoing.routing_key, outgoing.message,
                                       /*is_mandatory=*/true);
    if (!sequence) {
      report.error = sequence.error();
      return report;
    }
    book.Sent(*sequence, i);
  }
  const auto deadline = Clock::now() + confirm_timeout;
  while (book.pending() > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      report.error = core::Error{core::ErrorCode::kUnavailable,
                                 "publisher confirms timed out after " +
                                     std::to_string(confirm_timeout.count()) + " ms"};
      return report;
    }
    if (!Pump(connection, book, index_by_id, left, report)) return report;
  }
  return report;
}

}  // namespace inkwell::amqp
