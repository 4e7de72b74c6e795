#include "mailer/ack_coalescer.h"

namespace inkwell::mailer {

void AckCoalescer::Delivered(std::uint64_t tag) { unsettled_.insert(tag); }

void AckCoalescer::Ready(std::uint64_t tag) {
  if (unsettled_.contains(tag)) ready_.insert(tag);
}

void AckCoalescer::Settled(std::uint64_t tag) {
  unsettled_.erase(tag);
  ready_.erase(tag);
}

AckCoalescer::Plan AckCoalescer::Take(std::size_t max_waiting) {
  Plan plan;
  // The front run: unsettled tags that are all ready, in order.
  auto unsettled = unsettled_.begin();
  auto ready = ready_.begin();
  while (unsettled != unsettled_.end() && ready != ready_.end() && *unsettled == *ready) {
    plan.ack_up_to = *unsettled;
    ++plan.covered;
    ++unsettled;
    ++ready;
  }
  unsettled_.erase(unsettled_.begin(), unsettled);
  ready_.erase(ready_.begin(), ready);
  if (ready_.size() > max_waiting) {
    for (const std::uint64_t tag : ready_) {
      plan.single_acks.push_back(tag);
      unsettled_.erase(tag);
    }
    ready_.clear();
  }
  return plan;
}

void AckCoalescer::Clear() {
  unsettled_.clear();
  ready_.clear();
}

}  // namespace inkwell::mailer
