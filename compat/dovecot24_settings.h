/* Dovecot 2.4: the drivers' named settings (dovecot24_settings.c). C and C++. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct event;

/* The driver's settings for the passdb/userdb whose event this is, as space-separated
   key=value args words (only the settings that are set). Returns 0, or -1 with error_r. */
int vstore_settings_get_args(struct event *event, const char *driver,
			     const char **args_r, const char **error_r);

#ifdef __cplusplus
}
#endif
