#include "sluice/log_fields.h"

namespace sluice {
namespace {

thread_local const LogFields* t_current = nullptr;

}  // namespace

const LogFields* current_log_fields() { return t_current; }

ScopedLogFields::ScopedLogFields(const LogFields& fields) : previous_(t_current) {
  t_current = &fields;
}

ScopedLogFields::~ScopedLogFields() { t_current = previous_; }

}  // namespace sluice
