/* Which Dovecot the build is for, from Dovecot's config.h: VSTORE_DOVECOT_23 or
   VSTORE_DOVECOT_24. Included first by every compat/ file that includes Dovecot's headers. */
#pragma once

extern "C" {
#include "config.h"
}

#if DOVECOT_VERSION_MAJOR == 2 && DOVECOT_VERSION_MINOR <= 3
#define VSTORE_DOVECOT_23 1
#else
#define VSTORE_DOVECOT_24 1
#endif
