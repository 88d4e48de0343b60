// Issue 8's spec fields: retry.mode, circuit, and the http block of http
// stages. Each refusal is the exact one line a user sees.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "sluice/topics/spec.h"
#include "spec_test_util.h"

namespace sluice::topics {
namespace {

using testing::refusal;

// Stage `index` of an accepted spec; a default StageSpec (and a failure)
// when the spec is refused.
StageSpec stage_of(const std::string& yaml, size_t index = 0) {
  Result<PipelineSpec> spec = parse_spec(yaml, testing::kFile);
  EXPECT_TRUE(spec.is_ok()) << spec.status().message();
  if (!spec.is_ok() || index >= spec->stages.size()) return StageSpec{};
  return spec->stages[index];
}

// A builtin stage `a` after `defaults_block` (which may be empty), with
// `stage_extra` added to its flow map.
std::string one_stage(const std::string& defaults_block, const std::string& stage_extra) {
  return "pipeline: p\n" + defaults_block + "stages:\n  - {name: a, kind: builtin, builtin: x" +
         stage_extra + "}\n";
}

// retry.mode

TEST(RetryMode, DefaultsToTopic) {
  EXPECT_EQ(stage_of(one_stage("", "")).retry.mode, RetryMode::kTopic);
}

TEST(RetryMode, IsReadFromDefaultsAndOverriddenByAStageKeepingTheOtherRetryFields) {
  const std::string yaml = R"(pipeline: p
defaults:
  retry: {mode: in_place, max_attempts: 3}
stages:
  - {name: a, kind: builtin, builtin: x, next: [b]}
  - {name: b, kind: builtin, builtin: x, retry: {mode: topic}}
)";
  EXPECT_EQ(stage_of(yaml, 0).retry.mode, RetryMode::kInPlace);
  EXPECT_EQ(stage_of(yaml, 0).retry.max_attempts, 3);
  EXPECT_EQ(stage_of(yaml, 1).retry.mode, RetryMode::kTopic);
  EXPECT_EQ(stage_of(yaml, 1).retry.max_attempts, 3);
}

TEST(RetryMode, RefusesAnUnknownModeWithHint) {
  EXPECT_EQ(refusal(one_stage("defaults:\n  retry: {mode: inplace}\n", "")),
            "p.yaml:3: defaults.retry.mode: expected topic or in_place, got 'inplace' "
            "(did you mean 'in_place'?)");
  EXPECT_EQ(refusal(one_stage("", ", retry: {mode: blocking}")),
            "p.yaml:3: stages[0].retry.mode: expected topic or in_place, got 'blocking'");
}

// circuit

TEST(Circuit, IsOffByDefaultWithThePolicyDefaults) {
  const CircuitPolicy c = stage_of(one_stage("", "")).circuit;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.failures, 20);
  EXPECT_EQ(c.failure_rate, 50);
  EXPECT_EQ(c.window, Millis{30000});
  EXPECT_EQ(c.cool_down, Millis{30000});
}

TEST(Circuit, AMapTurnsItOnAndEveryKeyIsOptional) {
  EXPECT_TRUE(stage_of(one_stage("", ", circuit: {}")).circuit.enabled);
  const CircuitPolicy c =
      stage_of(one_stage("", ", circuit: {failures: 5, failure_rate: 25%, window: 10s, "
                             "cool_down: 1m}"))
          .circuit;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.failures, 5);
  EXPECT_EQ(c.failure_rate, 25);
  EXPECT_EQ(c.window, Millis{10000});
  EXPECT_EQ(c.cool_down, Millis{60000});
}

TEST(Circuit, TakesFailureRateWithOrWithoutPercentSign) {
  EXPECT_EQ(stage_of(one_stage("", ", circuit: {failure_rate: 75}")).circuit.failure_rate,
            75);
  EXPECT_EQ(stage_of(one_stage("", ", circuit: {failure_rate: 100%}")).circuit.failure_rate,
            100);
}

TEST(Circuit, AStageMapMergesOverTheDefaultsMapKeyByKey) {
  const std::string yaml = R"(pipeline: p
defaults:
  circuit: {failures: 10, window: 1m}
stages:
  - {name: a, kind: builtin, builtin: x, next: [b], circuit: {failures: 3}}
  - {name: b, kind: builtin, builtin: x}
)";
  const CircuitPolicy a = stage_of(yaml, 0).circuit;
  EXPECT_TRUE(a.enabled);
  EXPECT_EQ(a.failures, 3);
  EXPECT_EQ(a.window, Millis{60000});
  EXPECT_EQ(a.cool_down, Millis{30000});
  const CircuitPolicy b = stage_of(yaml, 1).circuit;
  EXPECT_TRUE(b.enabled);
  EXPECT_EQ(b.failures, 10);
}

TEST(Circuit, OffOrFalseInAStageTurnsOffTheDefaultsCircuit) {
  for (const char* off : {"off", "false"}) {
    StageSpec a = stage_of(one_stage("defaults:\n  circuit: {failures: 4}\n",
                                     std::string(", circuit: ") + off));
    EXPECT_FALSE(a.circuit.enabled) << off;
  }
}

TEST(Circuit, AStageMapOverADefaultsOffTurnsItOn) {
  StageSpec a = stage_of(one_stage("defaults:\n  circuit: off\n", ", circuit: {failures: 2}"));
  EXPECT_TRUE(a.circuit.enabled);
  EXPECT_EQ(a.circuit.failures, 2);
}

TEST(Circuit, RefusesAScalarOtherThanOff) {
  EXPECT_EQ(refusal(one_stage("", ", circuit: on")),
            "p.yaml:3: stages[0].circuit: expected off, false or a map (failures, "
            "failure_rate, window, cool_down), got 'on'");
  EXPECT_EQ(refusal(one_stage("", ", circuit: [1]")),
            "p.yaml:3: stages[0].circuit: expected off, false or a map (failures, "
            "failure_rate, window, cool_down), got a list");
}

TEST(Circuit, RefusesAnUnknownKeyWithHint) {
  EXPECT_EQ(refusal(one_stage("defaults:\n  circuit: {cooldown: 5s}\n", "")),
            "p.yaml:3: defaults.circuit.cooldown: unknown field (did you mean 'cool_down'?)");
}

TEST(Circuit, RefusesFailuresBelowOne) {
  EXPECT_EQ(refusal(one_stage("", ", circuit: {failures: 0}")),
            "p.yaml:3: stages[0].circuit.failures: must be between 1 and 1000000, got 0");
}

TEST(Circuit, RefusesFailureRateOutsideOneToHundred) {
  EXPECT_EQ(refusal(one_stage("", ", circuit: {failure_rate: 0%}")),
            "p.yaml:3: stages[0].circuit.failure_rate: must be between 1% and 100%, got '0%'");
  EXPECT_EQ(refusal(one_stage("", ", circuit: {failure_rate: 101}")),
            "p.yaml:3: stages[0].circuit.failure_rate: must be between 1% and 100%, got '101'");
  EXPECT_EQ(refusal(one_stage("", ", circuit: {failure_rate: half}")),
            "p.yaml:3: stages[0].circuit.failure_rate: expected a percentage (50 or 50%), "
            "got 'half'");
  EXPECT_EQ(refusal(one_stage("", ", circuit: {failure_rate: 5.5%}")),
            "p.yaml:3: stages[0].circuit.failure_rate: expected a percentage (50 or 50%), "
            "got '5.5%'");
}

TEST(Circuit, RefusesAZeroWindowOrCoolDown) {
  EXPECT_EQ(refusal(one_stage("", ", circuit: {window: 0s}")),
            "p.yaml:3: stages[0].circuit.window: must be at least 1ms, got 0s");
  EXPECT_EQ(refusal(one_stage("", ", circuit: {cool_down: 0ms}")),
            "p.yaml:3: stages[0].circuit.cool_down: must be at least 1ms, got 0ms");
}

// http

std::string http_stage(const std::string& http_block) {
  return "pipeline: p\nstages:\n  - name: a\n    kind: http\n    http: " + http_block + "\n";
}

TEST(Http, ReadsUrlWithMethodPostByDefaultAndNoHeaders) {
  const HttpSpec h = stage_of(http_stage("{url: http://localhost:8080/run}")).http;
  EXPECT_EQ(h.url, "http://localhost:8080/run");
  EXPECT_EQ(h.method, "POST");
  EXPECT_TRUE(h.headers.empty());
}

TEST(Http, ReadsMethodAndHeadersExpandingVariables) {
  ::setenv("SLUICE_SPEC_TEST_API_KEY", "k3y", 1);
  const HttpSpec h = stage_of(R"(pipeline: p
stages:
  - name: a
    kind: http
    http:
      url: https://api.example.com/v1/summarize
      method: PUT
      headers:
        Authorization: "Bearer ${SLUICE_SPEC_TEST_API_KEY}"
        X-Cost_Centre.v2: "$$5"
)")
                         .http;
  EXPECT_EQ(h.url, "https://api.example.com/v1/summarize");
  EXPECT_EQ(h.method, "PUT");
  EXPECT_EQ(h.headers, (std::map<std::string, std::string>{
                           {"Authorization", "Bearer k3y"}, {"X-Cost_Centre.v2", "$5"}}));
  EXPECT_EQ(stage_of(http_stage("{url: http://h/, method: PATCH}")).http.method,
            "PATCH");
}

TEST(Http, IsRequiredForHttpStages) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: http}\n"),
            "p.yaml:3: stages[0].http: missing: http stages need one");
}

TEST(Http, IsRefusedForOtherKinds) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n"
                    "  - {name: a, kind: exec, command: [x], http: {url: http://h/}}\n"),
            "p.yaml:3: stages[0].http: not allowed for kind exec (only http stages take it)");
}

TEST(Http, RefusesTheOldTopLevelUrl) {
  EXPECT_EQ(refusal("pipeline: p\nstages:\n  - {name: a, kind: http, url: http://h/}\n"),
            "p.yaml:3: stages[0].url: unknown field");
}

TEST(Http, RefusesAMissingUrl) {
  EXPECT_EQ(refusal(http_stage("{method: POST}")),
            "p.yaml:5: stages[0].http.url: missing: http stages send each task to one");
}

TEST(Http, RefusesAUrlWithoutHttpScheme) {
  EXPECT_EQ(refusal(http_stage("{url: localhost:80}")),
            "p.yaml:5: stages[0].http.url: must start with http:// or https://, got "
            "'localhost:80'");
}

TEST(Http, RefusesAnUnknownMethodWithHint) {
  EXPECT_EQ(refusal(http_stage("{url: http://h/, method: PUTT}")),
            "p.yaml:5: stages[0].http.method: expected POST, PUT or PATCH, got 'PUTT' "
            "(did you mean 'PUT'?)");
  EXPECT_EQ(refusal(http_stage("{url: http://h/, method: GET}")),
            "p.yaml:5: stages[0].http.method: expected POST, PUT or PATCH, got 'GET'");
}

TEST(Http, RefusesAnUnknownKeyWithHint) {
  EXPECT_EQ(refusal(http_stage("{url: http://h/, header: {A: b}}")),
            "p.yaml:5: stages[0].http.header: unknown field (did you mean 'headers'?)");
}

TEST(Http, RefusesAHeaderNameThatIsNotAToken) {
  EXPECT_EQ(refusal(http_stage("{url: http://h/, headers: {\"X Key\": v}}")),
            "p.yaml:5: stages[0].http.headers.X Key: not a header name (letters, digits "
            "and !#$%&'*+-.^_`|~)");
  EXPECT_EQ(refusal(http_stage("{url: http://h/, headers: {\"Key:\": v}}")),
            "p.yaml:5: stages[0].http.headers.Key:: not a header name (letters, digits "
            "and !#$%&'*+-.^_`|~)");
}

TEST(Http, RefusesAHeaderValueWithALineBreak) {
  ::setenv("SLUICE_SPEC_TEST_MULTILINE", "a\r\nInjected: yes", 1);
  EXPECT_EQ(refusal(http_stage("{url: http://h/, headers: {A: \"${SLUICE_SPEC_TEST_MULTILINE}\"}}")),
            "p.yaml:5: stages[0].http.headers.A: a header value must not hold CR, LF or NUL");
}

TEST(Http, RefusesAHeaderValueNamingAnUnsetVariable) {
  ::unsetenv("SLUICE_SPEC_TEST_UNSET");
  EXPECT_EQ(refusal(http_stage("{url: http://h/, headers: {Authorization: \"${SLUICE_SPEC_TEST_UNSET}\"}}")),
            "p.yaml:5: stages[0].http.headers.Authorization: ${SLUICE_SPEC_TEST_UNSET} is not "
            "set in the environment");
}

TEST(Http, RefusesHeadersThatAreNotAMap) {
  EXPECT_EQ(refusal(http_stage("{url: http://h/, headers: [a]}")),
            "p.yaml:5: stages[0].http.headers: expected a map, got a list");
}

}  // namespace
}  // namespace sluice::topics
