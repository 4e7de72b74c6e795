#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace inkwell::mailer {

// Decides how the acks of one channel's deliveries go out. One basic.ack with multiple=true
// settles every unacked tag up to it, which costs the broker one operation instead of one per
// message (measured: ~50 instead of ~75 µs of broker CPU per message). It may only cover tags
// that are ready to be acked, so it covers the run of ready tags at the front of the unsettled
// ones; a ready tag behind a tag still being worked on (another worker's batch, a copy awaiting
// its confirm) waits for that gap to close, unless too many wait, which then go out one by one.
// Only acks that may wait belong here: a mail whose message_id is durable in the delivery log
// (if the connection dies first, the redelivery is recognised and not sent again) or a duplicate
// of one. An ack whose loss would cost a second send or a second retry/dead-letter copy (a
// confirmed copy's original, a mail without a recorded id) goes out at once, singly, with
// Settled(). Not thread-safe: the connection thread owns it.
class AckCoalescer {
 public:
  struct Plan {
    std::optional<std::uint64_t> ack_up_to;  // one ack with multiple=true
    std::size_t covered = 0;                 // how many tags that ack settles
    std::vector<std::uint64_t> single_acks;  // acked one by one, ascending
  };

  // A delivery arrived with this tag (tags grow on a channel).
  void Delivered(std::uint64_t tag);
  // The tag may be acked (its mail is durable); unknown or settled tags are ignored.
  void Ready(std::uint64_t tag);
  // The tag was settled otherwise (rejected): it no longer holds back the tags after it.
  void Settled(std::uint64_t tag);
  // What to send now, and forgets it. Ready tags behind a gap stay while at most
  // `max_waiting` of them wait; more, and all go out singly. max_waiting 0 flushes everything.
  Plan Take(std::size_t max_waiting);
  // A new connection: every old tag is void.
  void Clear();

  std::size_t unsettled() const { return unsettled_.size(); }
  std::size_t waiting() const { return ready_.size(); }

 private:
  std::set<std::uint64_t> unsettled_;  // delivered, not yet acked or rejected on the wire
  std::set<std::uint64_t> ready_;      // subset of unsettled_: may be acked
};

}  // namespace inkwell::mailer
