/* Dovecot 2.4: the drivers' named settings. 2.4 has no passdb/userdb `args`; each driver
   declares its settings, and the config process (doveconf too) learns them from the settings
   module libvstore_auth_settings.so in <moduledir>/settings/, built from this file. The auth
   module is built with this file too and reads the settings back as `args` words, so the
   store code parses one syntax on both versions.

   C, not C++: Dovecot's SETTING_DEFINE_* macros check types with GNU C builtins. */
#include "lib.h"
#include "str.h"
#include "settings.h"
#include "settings-parser.h"
#include "dovecot24_settings.h"

#include <string.h>

struct vstore_vpopmail_settings {
	pool_t pool;
	const char *vpopmail_dir;
	const char *vpopmail_qmail_dir;
	const char *vpopmail_default_domain;
	const char *vpopmail_webmail_ips;
	const char *vpopmail_clear_password;
	const char *vpopmail_lastauth;
	const char *vpopmail_lastauth_interval;
	const char *vpopmail_verify_threads;
	const char *vpopmail_shared_fs;
	const char *vpopmail_home_roots;
	const char *vpopmail_max_crypt_rounds;
	const char *vpopmail_max_bcrypt_cost;
	const char *vpopmail_max_yescrypt_mib;
};

struct vstore_vmailmgr_settings {
	pool_t pool;
	const char *vmailmgr_qmail_dir;
	const char *vmailmgr_config_dir;
	const char *vmailmgr_default_domain;
	const char *vmailmgr_separators;
	const char *vmailmgr_refuse_disabled_mailbox;
	const char *vmailmgr_system_users;
	const char *vmailmgr_verify_threads;
	const char *vmailmgr_shared_fs;
	const char *vmailmgr_home_roots;
	const char *vmailmgr_max_crypt_rounds;
	const char *vmailmgr_max_bcrypt_cost;
	const char *vmailmgr_max_yescrypt_mib;
};

/* Every setting is a string, empty = the store's default: the store code validates values
   (yes/no, durations, addresses) with the same messages as on 2.3. */
#undef DEF
#define DEF(name) SETTING_DEFINE_STRUCT_STR_NOVARS(#name, name, struct vstore_vpopmail_settings)
static const struct setting_define vpopmail_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_vpopmail", },
	{ .type = SET_FILTER_NAME, .key = "userdb_vpopmail", },
	DEF(vpopmail_dir),
	DEF(vpopmail_qmail_dir),
	DEF(vpopmail_default_domain),
	DEF(vpopmail_webmail_ips),
	DEF(vpopmail_clear_password),
	DEF(vpopmail_lastauth),
	DEF(vpopmail_lastauth_interval),
	DEF(vpopmail_verify_threads),
	DEF(vpopmail_shared_fs),
	DEF(vpopmail_home_roots),
	DEF(vpopmail_max_crypt_rounds),
	DEF(vpopmail_max_bcrypt_cost),
	DEF(vpopmail_max_yescrypt_mib),
	SETTING_DEFINE_LIST_END
};

static const struct vstore_vpopmail_settings vpopmail_default_settings = {
	.vpopmail_dir = "",
	.vpopmail_qmail_dir = "",
	.vpopmail_default_domain = "",
	.vpopmail_webmail_ips = "",
	.vpopmail_clear_password = "",
	.vpopmail_lastauth = "",
	.vpopmail_lastauth_interval = "",
	.vpopmail_verify_threads = "",
	.vpopmail_shared_fs = "",
	.vpopmail_home_roots = "",
	.vpopmail_max_crypt_rounds = "",
	.vpopmail_max_bcrypt_cost = "",
	.vpopmail_max_yescrypt_mib = "",
};

/* The stores are mode 0600 (vpopmail's, or each vmailmgr base user's) and the auth process
   runs as dovecot: lookups run in the root auth workers unless `use_worker = no`, as for
   Dovecot's own passwd driver. Stored hashes without {SCHEME} are crypt(3). */
static const struct setting_keyvalue vpopmail_default_settings_keyvalue[] = {
	{ "passdb_vpopmail/passdb_use_worker", "yes" },
	{ "passdb_vpopmail/passdb_default_password_scheme", "CRYPT" },
	{ "userdb_vpopmail/userdb_use_worker", "yes" },
	{ NULL, NULL }
};

const struct setting_parser_info vstore_vpopmail_setting_parser_info = {
	.name = "vstore_vpopmail",
	.defines = vpopmail_setting_defines,
	.defaults = &vpopmail_default_settings,
	.default_settings = vpopmail_default_settings_keyvalue,
	.struct_size = sizeof(struct vstore_vpopmail_settings),
	.pool_offset1 = 1 + offsetof(struct vstore_vpopmail_settings, pool),
};

#undef DEF
#define DEF(name) SETTING_DEFINE_STRUCT_STR_NOVARS(#name, name, struct vstore_vmailmgr_settings)
static const struct setting_define vmailmgr_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_vmailmgr", },
	{ .type = SET_FILTER_NAME, .key = "userdb_vmailmgr", },
	DEF(vmailmgr_qmail_dir),
	DEF(vmailmgr_config_dir),
	DEF(vmailmgr_default_domain),
	DEF(vmailmgr_separators),
	DEF(vmailmgr_refuse_disabled_mailbox),
	DEF(vmailmgr_system_users),
	DEF(vmailmgr_verify_threads),
	DEF(vmailmgr_shared_fs),
	DEF(vmailmgr_home_roots),
	DEF(vmailmgr_max_crypt_rounds),
	DEF(vmailmgr_max_bcrypt_cost),
	DEF(vmailmgr_max_yescrypt_mib),
	SETTING_DEFINE_LIST_END
};

static const struct vstore_vmailmgr_settings vmailmgr_default_settings = {
	.vmailmgr_qmail_dir = "",
	.vmailmgr_config_dir = "",
	.vmailmgr_default_domain = "",
	.vmailmgr_separators = "",
	.vmailmgr_refuse_disabled_mailbox = "",
	.vmailmgr_system_users = "",
	.vmailmgr_verify_threads = "",
	.vmailmgr_shared_fs = "",
	.vmailmgr_home_roots = "",
	.vmailmgr_max_crypt_rounds = "",
	.vmailmgr_max_bcrypt_cost = "",
	.vmailmgr_max_yescrypt_mib = "",
};

static const struct setting_keyvalue vmailmgr_default_settings_keyvalue[] = {
	{ "passdb_vmailmgr/passdb_use_worker", "yes" },
	{ "passdb_vmailmgr/passdb_default_password_scheme", "CRYPT" },
	{ "userdb_vmailmgr/userdb_use_worker", "yes" },
	{ NULL, NULL }
};

const struct setting_parser_info vstore_vmailmgr_setting_parser_info = {
	.name = "vstore_vmailmgr",
	.defines = vmailmgr_setting_defines,
	.defaults = &vmailmgr_default_settings,
	.default_settings = vmailmgr_default_settings_keyvalue,
	.struct_size = sizeof(struct vstore_vmailmgr_settings),
	.pool_offset1 = 1 + offsetof(struct vstore_vmailmgr_settings, pool),
};

/* What the config process looks up in modules/settings/libvstore_auth_settings.so. */
const struct setting_parser_info *vstore_auth_settings_set_infos[] = {
	&vstore_vpopmail_setting_parser_info,
	&vstore_vmailmgr_setting_parser_info,
	NULL
};
const char *vstore_auth_settings_version = DOVECOT_ABI_VERSION;

/* The args word for a setting: vpopmail_dir keeps its name (it is the arg's name too);
   the others drop the driver prefix (vmailmgr_separators -> separators). */
static const char *arg_name(const char *driver, const char *key)
{
	size_t len = strlen(driver);

	if (strcmp(key, "vpopmail_dir") == 0)
		return key;
	if (strncmp(key, driver, len) == 0 && key[len] == '_')
		return key + len + 1;
	return key;
}

int vstore_settings_get_args(struct event *event, const char *driver,
			     const char **args_r, const char **error_r)
{
	/* Both settings structs start with their pool; the values are read by offset. */
	struct any_settings {
		pool_t pool;
	};
	const struct setting_parser_info *info;
	const struct any_settings *set;
	string_t *args = t_str_new(128);
	unsigned int i;

	if (strcmp(driver, "vpopmail") == 0)
		info = &vstore_vpopmail_setting_parser_info;
	else if (strcmp(driver, "vmailmgr") == 0)
		info = &vstore_vmailmgr_setting_parser_info;
	else {
		*error_r = t_strdup_printf("no settings for driver %s", driver);
		return -1;
	}
	if (settings_get(event, info, SETTINGS_GET_FLAG_NO_EXPAND, &set, error_r) < 0)
		return -1;
	for (i = 0; info->defines[i].key != NULL; i++) {
		const struct setting_define *def = &info->defines[i];
		const char *value;

		if (def->type != SET_STR_NOVARS)
			continue;
		value = *(const char *const *)CONST_PTR_OFFSET(set, def->offset);
		if (value == NULL || *value == '\0')
			continue;
		if (strpbrk(value, " \t") != NULL) {
			*error_r = t_strdup_printf("%s: spaces are not allowed in '%s'",
						   def->key, value);
			settings_free(set);
			return -1;
		}
		if (str_len(args) > 0)
			str_append_c(args, ' ');
		str_printfa(args, "%s=%s", arg_name(driver, def->key), value);
	}
	settings_free(set);
	*args_r = str_c(args);
	return 0;
}
