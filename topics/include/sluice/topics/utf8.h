// UTF-8 for everything written into an envelope's string fields: proto3
// refuses to parse a string field that is not valid UTF-8, so one stray byte
// makes a whole dead letter undecodable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::topics {

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view text);
// `text` with every byte that does not start a valid sequence replaced by
// U+FFFD; unchanged (and cheap) when already valid.
std::string to_valid_utf8(std::string_view text);
// At most `max_bytes` of to_valid_utf8(text), cut on a character boundary,
// with "..." appended (within the bound) when something was cut.
std::string utf8_excerpt(std::string_view text, size_t max_bytes);

}  // namespace sluice::topics
