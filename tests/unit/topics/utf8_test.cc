#include "sluice/topics/utf8.h"

#include <gtest/gtest.h>

namespace sluice::topics {
namespace {

TEST(Utf8, ValidTextPassesUnchanged) {
  EXPECT_TRUE(valid_utf8("plain ascii, longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8, InvalidBytesAreReplacedOneByOne) {
  EXPECT_FALSE(valid_utf8("a\xFF" "b"));
  EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_TRUE(valid_utf8(to_valid_utf8("\x80\x81 trailing \xE2\x82")));
}

// Defect (issue 7, item 4): a garbage line's excerpt was cut at byte 120,
// which can split a character and make the dead letter undecodable.
TEST(Utf8, AnExcerptIsCutOnACharacterBoundary) {
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";  // 3 bytes each
  std::string cut = utf8_excerpt(euros, 123);
  EXPECT_LE(cut.size(), 123u);
  EXPECT_TRUE(valid_utf8(cut));
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
  EXPECT_EQ(utf8_excerpt("short", 123), "short");
}

}  // namespace
}  // namespace sluice::topics
