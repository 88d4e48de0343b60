#include "sluice/stages/base64.h"

#include <gtest/gtest.h>

namespace sluice::stages {
namespace {

TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t len = 0; len <= bytes.size(); ++len) {
    EXPECT_EQ(base64_decode(base64_encode(bytes.substr(0, len))), bytes.substr(0, len));
  }
}

TEST(Base64, DecodesWithoutPadding) { EXPECT_EQ(base64_decode("Zm8"), "fo"); }

TEST(Base64, RefusesCharactersOutsideTheAlphabet) {
  EXPECT_FALSE(base64_decode("Zm9v!").has_value());
  EXPECT_FALSE(base64_decode("Zm 9v").has_value());
}

TEST(Base64, RefusesImpossibleLengthsAndPadding) {
  EXPECT_FALSE(base64_decode("Z").has_value());
  EXPECT_FALSE(base64_decode("Zm9=v").has_value());
  EXPECT_FALSE(base64_decode("Zm9=Zm9v").has_value());  // padding before the end
  EXPECT_FALSE(base64_decode("Zg=").has_value());
}

}  // namespace
}  // namespace sluice::stages
