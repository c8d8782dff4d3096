/* Dovecot 2.4: the drivers' named settings (dovecot24_settings.c). C and C++. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

#include <stddef.h>

struct event;

/* The driver's settings for the passdb/userdb whose event this is, as a NULL-terminated
   array of 2.4 name, value, name, value, ... (only settings with a non-empty value), on the
   data stack. Returns 0, or -1 with error_r. */
int vstore_settings_get(struct event *event, const char *driver,
			const char *const **pairs_r, const char **error_r);

/* Whether the driver's settings (pairs as above) are valid, by the store's parsers: 0, or -1
   with why in error (at most error_size bytes, NUL-terminated). No Dovecot call. */
int vstore_settings_check(const char *driver, const char *const *pairs, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif
