/* Dovecot 2.4: the drivers' named settings (dovecot24_settings.c). C and C++. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct event;

/* The driver's settings for the passdb/userdb whose event this is, as a NULL-terminated
   array of 2.4 name, value, name, value, ... (only settings with a non-empty value), on the
   data stack. Returns 0, or -1 with error_r. */
int vstore_settings_get(struct event *event, const char *driver,
			const char *const **pairs_r, const char **error_r);

#ifdef __cplusplus
}
#endif
