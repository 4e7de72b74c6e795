#include "mailer/disposition.h"

#include <gtest/gtest.h>

namespace inkwell::mailer {
namespace {

TEST(DispositionForTest, SuccessIsPlainAck) {
  const Disposition disposition = DispositionFor(core::Result<void>());

  EXPECT_EQ(disposition.action, Action::kAck);
  EXPECT_EQ(disposition.reason, "");
}

TEST(DispositionForTest, UnavailableIsRetriedLaterWithReason) {
  const Disposition disposition =
      DispositionFor(core::Fail(core::ErrorCode::kUnavailable, "smtp: 451 try later"));

  EXPECT_EQ(disposition.action, Action::kRetryLater);
  EXPECT_EQ(disposition.reason, "smtp: 451 try later");
}

TEST(DispositionForTest, EveryOtherErrorIsDeadLetteredWithReason) {
  for (const core::ErrorCode code : {core::ErrorCode::kInvalidArgument, core::ErrorCode::kNotFound,
                                     core::ErrorCode::kConflict, core::ErrorCode::kInternal}) {
    const Disposition disposition = DispositionFor(core::Fail(code, "reason for " + std::string(core::NameOf(code))));

    EXPECT_EQ(disposition.action, Action::kDeadLetter) << core::NameOf(code);
    EXPECT_EQ(disposition.reason, "reason for " + std::string(core::NameOf(code)));
  }
}

}  // namespace
}  // namespace inkwell::mailer
