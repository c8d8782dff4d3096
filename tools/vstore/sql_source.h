// vstore on vpopmail's MySQL backend: the driver's record source (glue::VpopmailSource, over
// Dovecot's own SQL layer) in vstore-mysql.so, which vstore loads for backend=mysql only, so
// that the cdb commands never load libdovecot. The rules stay VpopmailStore's: vstore calls
// decide_found() / userdb_found() on what find() gives, as the drivers do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "outcome.h"
#include "vpopmail_settings.h"
#include "vpopmail_store.h"

namespace vstore_cli {

class SqlSource {
public:
    virtual ~SqlSource() = default;
    // The account of a login as the driver finds it: users/cdb, then the user's row (and the
    // domain's limits). Waits for the database (at most the driver's 5 s).
    virtual vstore::Outcome find(const std::string &login, vstore::VpopmailAccount *account) = 0;
    // Every user of every real domain, as the driver's iteration lists them.
    virtual vstore::Outcome list(std::vector<std::string> *users) = 0;
    // What the driver checks at start-up for this backend.
    virtual std::vector<std::string> startup_problems() = 0;
    // How the store reads a domain's users: "table vpopmail" or "table <domain_table>".
    virtual std::string where(const std::string &real_domain) const = 0;
};

// Loads vstore-mysql.so (and Dovecot's libraries) and opens the source; nullptr with *error
// when that fails (no Dovecot mysql driver, an unusable vpopmail.mysql, ...).
std::unique_ptr<SqlSource> open_sql_source(const vstore::VpopmailSettings &s, std::string *error);

// main()'s arguments: Dovecot's process set-up wants the real ones.
void set_process_args(int argc, char **argv);

}  // namespace vstore_cli

// The entry point of vstore-mysql.so.
extern "C" vstore_cli::SqlSource *vstore_mysql_open(const vstore::VpopmailSettings *s, int argc, char **argv,
                                                    std::string *error);
