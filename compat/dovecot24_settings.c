/* Dovecot 2.4: the drivers' named settings. 2.4 has no passdb/userdb `args`; each driver
   declares its settings, and the config process (doveconf too) learns them from the settings
   module libvstore_auth_settings.so in <moduledir>/settings/, built from this file. The auth
   module is built with this file too and hands the values, by name, to the store's settings
   parser: names, defaults and parsing all come from plugin/store/common/settings_list.h.

   C, not C++: Dovecot's SETTING_DEFINE_* macros check types with GNU C builtins. */
#include "lib.h"
#include "array.h"
#include "settings.h"
#include "settings-parser.h"
#include "dovecot24_settings.h"
#include "settings_list.h"

#include <string.h>

/* Only the settings whose scope is BOTH exist on 2.4 (ARGS23 ones are 2.3 args words). */
#define VSTORE_IF_BOTH(...) __VA_ARGS__
#define VSTORE_IF_ARGS23(...)

#define FIELD(scope, name24, arg, apply, dflt, meaning) VSTORE_IF_##scope(const char *name24;)
#define DEFAULT(scope, name24, arg, apply, dflt, meaning) VSTORE_IF_##scope(.name24 = dflt,)

struct vstore_vpopmail_settings {
	pool_t pool;
	VSTORE_VPOPMAIL_SETTINGS(FIELD)
};

struct vstore_vmailmgr_settings {
	pool_t pool;
	VSTORE_VMAILMGR_SETTINGS(FIELD)
};

/* Every setting is a string: the store code validates values (yes/no, durations,
   addresses) with the same messages as on 2.3. */
#define DEF_VPOPMAIL(scope, name24, arg, apply, dflt, meaning) \
	VSTORE_IF_##scope(SETTING_DEFINE_STRUCT_STR_NOVARS(#name24, name24, struct vstore_vpopmail_settings),)
#define DEF_VMAILMGR(scope, name24, arg, apply, dflt, meaning) \
	VSTORE_IF_##scope(SETTING_DEFINE_STRUCT_STR_NOVARS(#name24, name24, struct vstore_vmailmgr_settings),)

static const struct setting_define vpopmail_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_vpopmail", },
	{ .type = SET_FILTER_NAME, .key = "userdb_vpopmail", },
	VSTORE_VPOPMAIL_SETTINGS(DEF_VPOPMAIL)
	SETTING_DEFINE_LIST_END
};

static const struct vstore_vpopmail_settings vpopmail_default_settings = {
	VSTORE_VPOPMAIL_SETTINGS(DEFAULT)
};

/* Lookups run in the auth process (Dovecot's default, use_worker = no), which reads the
   0600 stores through the store broker (plugin/store/broker/fs_broker.h). Stored hashes without
   {SCHEME} are crypt(3). */
static const struct setting_keyvalue vpopmail_default_settings_keyvalue[] = {
	{ "passdb_vpopmail/passdb_default_password_scheme", "CRYPT" },
	{ NULL, NULL }
};

static bool vpopmail_settings_check(void *set, pool_t pool, const char **error_r);
static bool vmailmgr_settings_check(void *set, pool_t pool, const char **error_r);

const struct setting_parser_info vstore_vpopmail_setting_parser_info = {
	.name = "vstore_vpopmail",
	.check_func = vpopmail_settings_check,
	.defines = vpopmail_setting_defines,
	.defaults = &vpopmail_default_settings,
	.default_settings = vpopmail_default_settings_keyvalue,
	.struct_size = sizeof(struct vstore_vpopmail_settings),
	.pool_offset1 = 1 + offsetof(struct vstore_vpopmail_settings, pool),
};

static const struct setting_define vmailmgr_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_vmailmgr", },
	{ .type = SET_FILTER_NAME, .key = "userdb_vmailmgr", },
	VSTORE_VMAILMGR_SETTINGS(DEF_VMAILMGR)
	SETTING_DEFINE_LIST_END
};

static const struct vstore_vmailmgr_settings vmailmgr_default_settings = {
	VSTORE_VMAILMGR_SETTINGS(DEFAULT)
};

static const struct setting_keyvalue vmailmgr_default_settings_keyvalue[] = {
	{ "passdb_vmailmgr/passdb_default_password_scheme", "CRYPT" },
	{ NULL, NULL }
};

const struct setting_parser_info vstore_vmailmgr_setting_parser_info = {
	.name = "vstore_vmailmgr",
	.check_func = vmailmgr_settings_check,
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

/* The settings struct's non-empty values as name, value, ..., NULL, on the data stack. */
static const char *const *
settings_pairs(const struct setting_parser_info *info, const void *set)
{
	ARRAY_TYPE(const_string) pairs;
	unsigned int i;

	t_array_init(&pairs, 32);
	for (i = 0; info->defines[i].key != NULL; i++) {
		const struct setting_define *def = &info->defines[i];
		const char *value;

		if (def->type != SET_STR_NOVARS)
			continue;
		value = *(const char *const *)CONST_PTR_OFFSET(set, def->offset);
		if (value == NULL || *value == '\0')
			continue;
		value = t_strdup(value);
		array_push_back(&pairs, &def->key);
		array_push_back(&pairs, &value);
	}
	array_append_zero(&pairs);
	return array_front(&pairs);
}

/* Every value is a string in the struct; whether it is a valid one the store's parsers decide
   (vstore_settings_check()), here as in the auth process: doveconf refuses
   `vpopmail_lastauth = maybe` as the auth process would. */
static bool check_driver_settings(const struct setting_parser_info *info, const char *driver,
				  void *set, const char **error_r)
{
	char error[512];

	if (vstore_settings_check(driver, settings_pairs(info, set), error, sizeof(error)) == 0)
		return TRUE;
	*error_r = t_strdup(error);
	return FALSE;
}

static bool vpopmail_settings_check(void *set, pool_t pool ATTR_UNUSED, const char **error_r)
{
	return check_driver_settings(&vstore_vpopmail_setting_parser_info, "vpopmail", set, error_r);
}

static bool vmailmgr_settings_check(void *set, pool_t pool ATTR_UNUSED, const char **error_r)
{
	return check_driver_settings(&vstore_vmailmgr_setting_parser_info, "vmailmgr", set, error_r);
}

int vstore_settings_get(struct event *event, const char *driver,
			const char *const **pairs_r, const char **error_r)
{
	/* Both settings structs start with their pool; the values are read by offset. */
	struct any_settings {
		pool_t pool;
	};
	const struct setting_parser_info *info;
	const struct any_settings *set;

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
	*pairs_r = settings_pairs(info, set);
	settings_free(set);
	return 0;
}
