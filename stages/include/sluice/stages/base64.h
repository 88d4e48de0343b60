// Base64 (RFC 4648, standard alphabet, '=' padding): how the exec protocol
// carries payloads that are not JSON. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::stages {

std::string base64_encode(std::string_view bytes);

// nullopt when `text` is not base64. Padding may be omitted; whitespace and
// characters outside the alphabet are refused.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sluice::stages
