// topics/SPEC.md documents every spec field; the readers accept exactly the
// fields of spec_fields(). This test holds the two to each other, so a field
// added to the reader without its row in the reference (or documented but
// not accepted) fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "sluice/topics/spec_fields.h"

namespace sluice::topics {
namespace {

using FieldSet = std::set<std::string>;

void add(FieldSet& out, SpecSection section, const std::string& prefix = "") {
  for (std::string_view field : spec_fields(section)) out.insert(prefix + std::string(field));
}

// The reference's field tables, by their heading under "## Fields".
std::map<std::string, FieldSet> accepted_by_table() {
  FieldSet top, stage, settings;
  add(top, SpecSection::kTop);
  add(top, SpecSection::kKafka, "kafka.");
  add(stage, SpecSection::kStage);
  add(stage, SpecSection::kHttp, "http.");
  add(stage, SpecSection::kDedupe, "dedupe.");
  add(stage, SpecSection::kGather, "gather.");
  add(settings, SpecSection::kSettings);
  add(settings, SpecSection::kRetry, "retry.");
  add(settings, SpecSection::kCircuit, "circuit.");
  add(settings, SpecSection::kBackpressure, "backpressure.");
  add(settings, SpecSection::kScale, "scale.");
  add(settings, SpecSection::kSlo, "slo.");
  return {{"Top level", top}, {"Stage fields", stage}, {"Settings", settings}};
}

// The first cell of every table row under "## Fields", by "### " heading:
// "| `retry.backoff` | duration | ..." gives "retry.backoff".
std::map<std::string, FieldSet> documented_by_table(std::istream& in) {
  std::map<std::string, FieldSet> tables;
  std::string line, heading;
  bool in_fields = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_fields = line == "## Fields";
    if (!in_fields) continue;
    if (line.rfind("### ", 0) == 0) heading = line.substr(4);
    if (line.rfind("| `", 0) != 0) continue;
    size_t end = line.find('`', 3);
    if (end != std::string::npos) tables[heading].insert(line.substr(3, end - 3));
  }
  return tables;
}

TEST(SpecReference, DocumentsExactlyTheFieldsTheReaderAccepts) {
  std::string path = std::string(SLUICE_SOURCE_DIR) + "/topics/SPEC.md";
  std::ifstream file(path);
  ASSERT_TRUE(file) << "cannot read " << path;
  std::map<std::string, FieldSet> documented = documented_by_table(file);
  std::map<std::string, FieldSet> accepted = accepted_by_table();
  for (const auto& [table, fields] : accepted) {
    const FieldSet& docs = documented[table];
    for (const std::string& f : fields) {
      EXPECT_TRUE(docs.contains(f)) << f << ": accepted, but not in SPEC.md's table '"
                                    << table << "'";
    }
    for (const std::string& f : docs) {
      EXPECT_TRUE(fields.contains(f)) << f << ": in SPEC.md's table '" << table
                                      << "', but the spec reader does not accept it";
    }
  }
  for (const auto& [table, fields] : documented) {
    EXPECT_TRUE(accepted.contains(table)) << "SPEC.md: field table '" << table
                                          << "' is not one the test knows";
  }
}

}  // namespace
}  // namespace sluice::topics
