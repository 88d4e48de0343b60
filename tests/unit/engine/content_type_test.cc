#include <gtest/gtest.h>

#include "sluice/stage.h"

namespace sluice {
namespace {

TEST(ContentType, JsonWithOrWithoutParametersOrSuffixIsJson) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/vnd.api+json"));
}

TEST(ContentType, OtherTypesAreNotJson) {
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/octet-stream"));
  EXPECT_FALSE(is_json_content_type("application/jsonl"));
  EXPECT_FALSE(is_json_content_type("+json"));
  EXPECT_FALSE(is_json_content_type(""));
}

}  // namespace
}  // namespace sluice
