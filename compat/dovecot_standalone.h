/* Dovecot's lib in a process of its own (vstore on vpopmail's MySQL backend): a standalone
   master service that reads no Dovecot config and logs to stderr, an ioloop, and lib-sql with
   Dovecot's mysql driver module (dovecot-mariadb or dovecot-mysql) loaded from Dovecot's
   module dir, so that SqlDb (dovecot_sql.h) runs as it does in the auth process. One per
   process. */
#pragma once

#include <functional>
#include <string>

namespace compat {

class Standalone {
public:
    // argc/argv: main()'s (Dovecot's process set-up reads and may move them).
    static void init(int argc, char **argv);
    static void deinit();
    // Runs start(stop) and then the ioloop until stop() was called (at once when start
    // already called it), in a data stack frame of its own.
    static void run(const std::function<void(std::function<void()> stop)> &start);
};

}  // namespace compat
