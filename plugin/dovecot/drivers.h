// The driver interfaces this module registers with Dovecot's auth process.
#pragma once

#include "dovecot_api.h"

extern struct passdb_module_interface vstore_passdb_vpopmail;
extern struct userdb_module_interface vstore_userdb_vpopmail;
extern struct passdb_module_interface vstore_passdb_vmailmgr;
extern struct userdb_module_interface vstore_userdb_vmailmgr;
