#include "outcome.h"

namespace vstore {

const char *verdict_name(Verdict v)
{
    switch (v) {
    case Verdict::Ok: return "ok";
    case Verdict::InvalidLogin: return "invalid login";
    case Verdict::UserUnknown: return "user unknown";
    case Verdict::Disabled: return "disabled";
    case Verdict::StoreFault: return "store fault";
    }
    return "?";
}

}  // namespace vstore
