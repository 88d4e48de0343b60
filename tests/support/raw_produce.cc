// sluice_raw_produce BOOTSTRAP TOPIC KEY < BYTES: writes stdin, byte for byte,
// as one record's value, as a foreign producer would (no envelope), and exits
// 0 once the broker acknowledged it. Integration tests use it to put garbage on
// stage and retry topics; Kafka's console producer cannot send arbitrary bytes
// (it reads lines of text) and the kafka4 jar cache has no tools jar.
#include <iostream>
#include <iterator>
#include <string>

#include "one_record.h"

namespace {

int fail(const std::string& what) {
  std::cerr << "sluice_raw_produce: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::testing;
  if (argc != 4) return fail("usage: sluice_raw_produce BOOTSTRAP TOPIC KEY < BYTES");
  const std::string bootstrap = argv[1], topic = argv[2], key = argv[3];
  std::string value(std::istreambuf_iterator<char>(std::cin), {});

  Producer producer;
  if (std::string e = new_producer({{"bootstrap.servers", bootstrap}}, &producer); !e.empty()) {
    return fail(e);
  }
  if (std::string e = produce_one(producer.get(), topic, key, value); !e.empty()) {
    return fail(e + " (on " + bootstrap + ")");
  }
  return 0;
}
