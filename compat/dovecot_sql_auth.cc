// Dovecot's SQL layer in the auth process: the module's SQL handles log under the auth
// process's event, and a missing mysql driver is loaded from the auth module dir.
#include "dovecot_api.h"
#include "dovecot_sql.h"

namespace compat {

struct event *sql_parent_event() { return auth_event; }

void sql_load_mysql_driver() { auth_module_load("driver_mysql"); }

}  // namespace compat
