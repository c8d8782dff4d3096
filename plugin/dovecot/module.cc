// Module entry points. The same shared object is installed as lib20_authdb_<driver>.so for
// each driver (one file, the others symlinks), so Dovecot's lazy loader finds it by driver
// name; each name has its own init/deinit that registers only that driver.
#include "drivers.h"

#define VSTORE_EXPORT extern "C" __attribute__((visibility("default")))

VSTORE_EXPORT const char *authdb_vpopmail_version;
const char *authdb_vpopmail_version = VSTORE_DOVECOT_ABI_VERSION;

VSTORE_EXPORT void authdb_vpopmail_init(struct module *module);
VSTORE_EXPORT void authdb_vpopmail_deinit(void);

void authdb_vpopmail_init(struct module *module ATTR_UNUSED)
{
    passdb_register_module(&vstore_passdb_vpopmail);
    userdb_register_module(&vstore_userdb_vpopmail);
}

void authdb_vpopmail_deinit(void)
{
    passdb_unregister_module(&vstore_passdb_vpopmail);
    userdb_unregister_module(&vstore_userdb_vpopmail);
}

VSTORE_EXPORT const char *authdb_vmailmgr_version;
const char *authdb_vmailmgr_version = VSTORE_DOVECOT_ABI_VERSION;

VSTORE_EXPORT void authdb_vmailmgr_init(struct module *module);
VSTORE_EXPORT void authdb_vmailmgr_deinit(void);

void authdb_vmailmgr_init(struct module *module ATTR_UNUSED)
{
    passdb_register_module(&vstore_passdb_vmailmgr);
    userdb_register_module(&vstore_userdb_vmailmgr);
}

void authdb_vmailmgr_deinit(void)
{
    passdb_unregister_module(&vstore_passdb_vmailmgr);
    userdb_unregister_module(&vstore_userdb_vmailmgr);
}
