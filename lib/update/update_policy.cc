#include "update/update_policy.h"

namespace outpost::update {

std::string FeedDigest(std::string_view) { return ""; }

std::string_view VerdictName(Decision::Verdict verdict) {
  switch (verdict) {
    case Decision::Verdict::kUpToDate:
      return "up_to_date";
    case Decision::Verdict::kUpdate:
      return "update";
    case Decision::Verdict::kRollback:
      return "rollback";
    case Decision::Verdict::kNotInRollout:
      return "not_in_rollout";
    case Decision::Verdict::kBlocked:
      return "blocked";
    case Decision::Verdict::kSteppingStoneRequired:
      return "stepping_stone_required";
    case Decision::Verdict::kRejected:
      return "rejected";
  }
  return "rejected";
}

Decision Evaluate(std::string_view, std::string_view, const EvaluateInput& input) {
  Decision d;
  d.reason_code = reason::kSignatureMalformed;
  d.reason = "not implemented yet";
  d.new_state = input.state;
  return d;
}

int RolloutBucket(std::string_view, std::string_view) { return 0; }
int RolloutThreshold(double) { return 0; }

}  // namespace outpost::update
