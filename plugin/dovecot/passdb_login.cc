// The passdb login of the running module (passdb_login.h), made once here.
#include "dovecot_host.h"

namespace glue {

template class PassdbLoginT<DovecotHost>;

}  // namespace glue
