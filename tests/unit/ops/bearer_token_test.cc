#include "bearer_token.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace sluice::ops {
namespace {

TEST(BearerToken, MatchesOnlyTheExactBearerHeader) {
  std::string good = "Bearer abc123";
  EXPECT_TRUE(bearer_matches(&good, "abc123"));
  for (std::string bad : {"Bearer abc124", "bearer abc123", "Bearer abc1234", "Bearer abc12",
                          "abc123", "Basic abc123", ""}) {
    EXPECT_FALSE(bearer_matches(&bad, "abc123")) << bad;
  }
  EXPECT_FALSE(bearer_matches(nullptr, "abc123"));
}

TEST(BearerToken, ReadsTheFileWithoutItsTrailingNewline) {
  auto path = std::filesystem::temp_directory_path() / "sluice-bearer-token-test";
  std::ofstream(path) << "t0ken\n";
  auto token = load_bearer_token(path.string(), "SLUICE_TEST_NO_SUCH_VARIABLE");
  ASSERT_TRUE(token.is_ok());
  EXPECT_EQ(*token, std::optional<std::string>("t0ken"));
  std::ofstream(path) << "\n";
  auto empty = load_bearer_token(path.string(), "SLUICE_TEST_NO_SUCH_VARIABLE");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kUsage);
  std::filesystem::remove(path);
  EXPECT_FALSE(load_bearer_token(path.string(), "X").is_ok());
}

TEST(BearerToken, FallsBackToTheEnvironmentThenToNone) {
  ::setenv("SLUICE_TEST_BEARER", "from-env", 1);
  auto token = load_bearer_token(std::nullopt, "SLUICE_TEST_BEARER");
  ASSERT_TRUE(token.is_ok());
  EXPECT_EQ(*token, std::optional<std::string>("from-env"));
  ::unsetenv("SLUICE_TEST_BEARER");
  auto none = load_bearer_token(std::nullopt, "SLUICE_TEST_BEARER");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace sluice::ops
