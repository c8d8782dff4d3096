/* Dovecot's event loop, for the auth module and for vstore's MySQL helper alike (no auth
   header here: the helper has no auth process). */
#pragma once

#include "dovecot_version.h"

extern "C" {
#include "lib.h"
#include "ioloop.h"
}

namespace compat {

/* Calls cb(ctx) from Dovecot's ioloop when fd is readable. (Parenthesised: Dovecot's io_add
   macro type-checks with a C-only builtin.) */
inline struct io *watch_fd(int fd, void (*cb)(void *), void *ctx)
{
    return (io_add)(fd, IO_READ, __FILE__, __LINE__, cb, ctx);
}
inline void unwatch_fd(struct io **io) { io_remove(io); }

/* Calls cb(ctx) once from Dovecot's ioloop, after the callbacks of the current round (the
   ioloop runs due timeouts before the next round's ios). */
inline struct timeout *call_next_round(void (*cb)(void *), void *ctx)
{
    return (timeout_add_short)(0, __FILE__, __LINE__, cb, ctx);
}
inline void cancel_call(struct timeout **to) { timeout_remove(to); }

}  // namespace compat
