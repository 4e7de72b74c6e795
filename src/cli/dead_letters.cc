#include "cli/dead_letters.h"

#include <algorithm>

#include "amqp/topology.h"

namespace inkwell::cli {
namespace {

DeadLetter Describe(amqp::Message message) {
  DeadLetter letter;
  letter.message_id = message.message_id;
  letter.reason = message.Header("x-inkwell-reason");
  if (letter.reason.empty()) letter.reason = "rejected (no reason recorded)";
  letter.failed_at = message.Header("x-inkwell-failed-at");
  letter.attempts = message.Header("x-inkwell-attempts");
  letter.message = std::move(message);
  return letter;
}

}  // namespace

core::Result<std::vector<DeadLetter>> BrowseDeadLetters(amqp::Connection& connection,
                                                        std::size_t limit) {
  std::vector<DeadLetter> letters;
  while (letters.size() < limit) {
    auto got = connection.Get(amqp::kEmailDeadQueue);
    if (!got) return tl::unexpected(got.error());
    if (!got->has_value()) break;
    letters.push_back(Describe(std::move((*got)->message)));
  }
  return letters;
}

amqp::Message ForReplay(const amqp::Message& dead) {
  amqp::Message copy = dead;
  std::erase_if(copy.headers, [](const auto& header) {
    return header.first.starts_with("x-inkwell-") || header.first.starts_with("x-death") ||
           header.first.starts_with("x-first-death") || header.first.starts_with("x-last-death");
  });
  copy.is_persistent = true;
  return copy;
}

core::Result<std::size_t> ReplayDeadLetters(amqp::Connection& connection,
                                            const std::string& message_id) {
  if (auto confirms = connection.EnableConfirms(); !confirms) return tl::unexpected(confirms.error());
  std::size_t replayed = 0;
  for (;;) {
    auto got = connection.Get(amqp::kEmailDeadQueue);
    if (!got) return tl::unexpected(got.error());
    if (!got->has_value()) break;
    const amqp::Delivery& dead = **got;
    if (!message_id.empty() && dead.message.message_id != message_id) continue;  // stays unacked
    auto sequence = connection.Publish(amqp::kEmailExchange, amqp::kEmailSendKey,
                                       ForReplay(dead.message), /*is_mandatory=*/true);
    if (!sequence) return tl::unexpected(sequence.error());
    // Wait for this copy's confirm before removing the original: never both gone.
    bool is_confirmed = false;
    while (!is_confirmed) {
      auto event = connection.NextEvent(std::chrono::seconds(30));
      if (!event) return tl::unexpected(event.error());
      if (!event->has_value()) {
        return core::Fail(core::ErrorCode::kUnavailable, "no publisher confirm within 30 s");
      }
      if (const auto* returned = std::get_if<amqp::Returned>(&**event)) {
        return core::Fail(core::ErrorCode::kUnavailable,
                          "replay was unroutable: " + returned->reply_text);
      }
      if (const auto* confirm = std::get_if<amqp::Confirm>(&**event)) {
        if (confirm->delivery_tag >= *sequence || confirm->is_multiple) {
          if (!confirm->is_ack) {
            return core::Fail(core::ErrorCode::kUnavailable, "the broker refused the replay");
          }
          is_confirmed = confirm->delivery_tag >= *sequence;
        }
      }
    }
    if (auto acked = connection.Ack(dead.delivery_tag); !acked) return tl::unexpected(acked.error());
    ++replayed;
    if (!message_id.empty()) break;
  }
  if (!message_id.empty() && replayed == 0) {
    return core::Fail(core::ErrorCode::kNotFound, "no dead letter with message_id " + message_id);
  }
  return replayed;
}

}  // namespace inkwell::cli
