#include "core/error.h"

#include <gtest/gtest.h>

namespace inkwell::core {
namespace {

TEST(NameOfErrorCodeTest, GivesStableLowerCaseNames) {
  EXPECT_EQ(NameOf(ErrorCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(NameOf(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(NameOf(ErrorCode::kConflict), "conflict");
  EXPECT_EQ(NameOf(ErrorCode::kUnavailable), "unavailable");
  EXPECT_EQ(NameOf(ErrorCode::kInternal), "internal");
}

TEST(FailTest, CarriesCodeAndMessage) {
  const Result<int> result = Fail(ErrorCode::kConflict, "already there");

  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kConflict);
  EXPECT_EQ(result.error().message, "already there");
}

}  // namespace
}  // namespace inkwell::core
