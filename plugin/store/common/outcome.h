// The result vocabulary shared by both stores: what a lookup found, and why.
#pragma once

#include <string>
#include <utility>

namespace vstore {

enum class Verdict {
    Ok,
    InvalidLogin,  // the login cannot name a user of this store (refused)
    UserUnknown,   // no such domain or user
    Disabled,      // the account exists but may not log in (here, now)
    StoreFault,    // the store could not be read or is corrupt: temporary failure
};

struct Outcome {
    Verdict verdict = Verdict::Ok;
    std::string reason;  // specific, human-readable; empty when Ok

    static Outcome ok() { return {}; }
    static Outcome fail(Verdict v, std::string why) { return {v, std::move(why)}; }
    bool is_ok() const { return verdict == Verdict::Ok; }
};

const char *verdict_name(Verdict v);

}  // namespace vstore
