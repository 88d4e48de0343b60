// produce_raw(): writes one record as a foreign producer would, bypassing
// Sluice's submitter, so tests can put exactly the bytes they mean on a topic
// (foreign bytes, hand-built envelopes). Blocks until acknowledged.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "one_record.h"

namespace sluice::testing {

inline void produce_raw(const std::string& bootstrap, const std::string& topic,
                        const std::string& key, const std::string& value) {
  Producer producer;
  ASSERT_EQ(new_producer({{"bootstrap.servers", bootstrap}}, &producer), "");
  EXPECT_EQ(produce_one(producer.get(), topic, key, value), "");
}

}  // namespace sluice::testing
