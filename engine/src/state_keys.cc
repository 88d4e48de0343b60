#include "state_keys.h"

#include <cstdint>

namespace sluice::engine {
namespace {

constexpr char kTaskKeyScope = 'k';
constexpr char kPartitionScope = 'p';

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint from the front of `in`, consuming it.
std::optional<uint64_t> take_varint(std::string_view& in) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string state_key_prefix(StateKey::Scope scope, std::string_view task_key,
                             std::string_view name_prefix) {
  std::string out;
  out.reserve(1 + 5 + task_key.size() + name_prefix.size());
  if (scope == StateKey::Scope::kPartition) {
    out.push_back(kPartitionScope);
  } else {
    out.push_back(kTaskKeyScope);
    put_varint(out, task_key.size());
    out.append(task_key);
  }
  out.append(name_prefix);
  return out;
}

std::string encode_state_key(const StateKey& key) {
  return state_key_prefix(key.scope, key.task_key, key.name);
}

std::optional<StateKey> decode_state_key(std::string_view stored) {
  if (stored.empty()) return std::nullopt;
  char scope = stored.front();
  stored.remove_prefix(1);
  StateKey key;
  if (scope == kPartitionScope) {
    key.scope = StateKey::Scope::kPartition;
  } else if (scope == kTaskKeyScope) {
    std::optional<uint64_t> length = take_varint(stored);
    if (!length || *length > stored.size()) return std::nullopt;
    key.task_key = std::string(stored.substr(0, *length));
    stored.remove_prefix(*length);
  } else {
    return std::nullopt;
  }
  key.name = std::string(stored);
  return key;
}

}  // namespace sluice::engine
