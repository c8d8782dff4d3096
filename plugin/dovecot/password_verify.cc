// The verification threads of the running module (password_verify.h), made once here.
#include "dovecot_host.h"

namespace glue {

template class VerifyThreadsT<DovecotHost>;

}  // namespace glue
