#include "web/password_hasher.h"

#include <string>

#include <gtest/gtest.h>

namespace inkwell::web {
namespace {

TEST(PasswordHasherTest, HashIsArgon2idAndVerifiesOnlyTheSamePassword) {
  const PasswordHasher hasher;

  auto hash = hasher.Hash("correct horse battery staple");

  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0U) << *hash;
  EXPECT_TRUE(hasher.Verify("correct horse battery staple", *hash));
  EXPECT_FALSE(hasher.Verify("correct horse battery stapler", *hash));
  EXPECT_FALSE(hasher.Verify("", *hash));
}

TEST(PasswordHasherTest, SamePasswordGetsDifferentSalts) {
  const PasswordHasher hasher;

  auto first = hasher.Hash("password1");
  auto second = hasher.Hash("password1");

  ASSERT_TRUE(first && second);
  EXPECT_NE(*first, *second);
}

TEST(PasswordHasherTest, VerifyRejectsGarbageHash) {
  const PasswordHasher hasher;

  const bool is_valid = hasher.Verify("password1", "not a hash");

  EXPECT_FALSE(is_valid);
}

}  // namespace
}  // namespace inkwell::web
