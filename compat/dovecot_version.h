/* Which Dovecot the build is for, from Dovecot's config.h: VSTORE_DOVECOT_23 or
   VSTORE_DOVECOT_24, and VSTORE_DOVECOT_AT_LEAST() for what changed within a series.
   Included first by every compat/ file that includes Dovecot's headers: before lib.h. */
#pragma once

#include <cstdlib>  // (reads glibc's <features.h>: see below)

extern "C" {
#include "config.h"
}

#if DOVECOT_VERSION_MAJOR == 2 && DOVECOT_VERSION_MINOR <= 3
#define VSTORE_DOVECOT_23 1
#else
#define VSTORE_DOVECOT_24 1
#endif

/* True when the headers are Dovecot maj.min.micro or newer. (Dovecot's DOVECOT_PREREQ is in
   macros.h, which needs lib.h: this one needs config.h only.) Key each difference to the
   release that made it, not to the release we happened to port to. */
#define VSTORE_DOVECOT_AT_LEAST(maj, min, micro)                                                    \
    (DOVECOT_VERSION_MAJOR * 1000000 + DOVECOT_VERSION_MINOR * 1000 + DOVECOT_VERSION_MICRO >= \
     (maj) * 1000000 + (min) * 1000 + (micro))

/* Dovecot 2.4's lib.h starts with #define _POSIX_C_SOURCE 200809L and _XOPEN_SOURCE 700: in
   Dovecot's own C files it comes first and steers <features.h>. Here a C++ standard header
   always comes first, and g++ predefines _GNU_SOURCE, for which <features.h> has already
   defined both; glibc >= 2.42 to other values (202405L, 800), so lib.h's #define is a
   redefinition, warned about in every file (an error with -Werror; no -W option turns it
   off). <features.h> is read once (include guard) and has done its work by now (the
   <cstdlib> above makes sure of that), so dropping its two macros changes no declaration;
   lib.h then defines them as in Dovecot's own build. 2.3's lib.h does not define them. */
#ifdef VSTORE_DOVECOT_24
#undef _POSIX_C_SOURCE
#undef _XOPEN_SOURCE
#endif
