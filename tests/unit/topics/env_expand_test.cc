#include "sluice/topics/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::topics {
namespace {

EnvLookup from(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ExpandEnv, SubstitutesVariablesAndKeepsTheRest) {
  auto lookup = from({{"USER_NAME", "ada"}, {"EMPTY", ""}});
  EXPECT_EQ(*expand_env("user=${USER_NAME}; e=[${EMPTY}]", lookup), "user=ada; e=[]");
  EXPECT_EQ(*expand_env("price $5, $HOME, $$, $", lookup), "price $5, $HOME, $, $");
  EXPECT_EQ(*expand_env("$${USER_NAME}", lookup), "${USER_NAME}") << "$$ escapes the dollar";
}

TEST(ExpandEnv, RefusesUnsetUnterminatedAndBadNames) {
  auto lookup = from({});
  EXPECT_EQ(expand_env("${MISSING}", lookup).status().message(),
            "${MISSING} is not set in the environment");
  EXPECT_EQ(expand_env("x${OPEN", lookup).status().message(),
            "unterminated ${ (a literal $ is $$)");
  EXPECT_EQ(expand_env("${1X}", lookup).status().message(), "'${1X}': not a variable name");
  EXPECT_EQ(expand_env("${}", lookup).status().message(), "'${}': not a variable name");
}

}  // namespace
}  // namespace sluice::topics
