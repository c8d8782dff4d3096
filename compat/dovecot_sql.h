/* Dovecot's own SQL layer (lib-sql, with its mysql driver: Debian's dovecot-mariadb, formerly
   dovecot-mysql), as the vpopmail MySQL backend uses it: statements with bound values, results
   copied out as plain rows, writes in a transaction. The glue and the store never see lib-sql. */
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "vpopmail_sql.h"

struct event;
struct sql_db;
struct settings_instance;

namespace compat {

struct SqlRow {
    std::vector<std::pair<std::string, std::optional<std::string>>> columns;
    // Why a column was not copied (over vpopmail_sql::kMaxColumnBytes; the first such
    // column), answered for the column vpopmail_sql::kOversizedColumn.
    std::optional<std::string> oversized;
    std::optional<std::string> get(const char *name) const;
};

struct SqlResult {
    bool failed = false;
    std::string error;  // the server's or the driver's message, when failed
    std::vector<SqlRow> rows;
};

class SqlDb {
public:
    // A handle for one of vpopmail.mysql's connections; it connects on first use and
    // reconnects by itself. nullptr with *error when the parameters cannot be used.
    // name tells the handles of one module apart ("read", "update"): 2.4 shares a handle
    // between equal settings.
    static std::unique_ptr<SqlDb> open(const vstore::vpopmail_sql::Connection &c, const char *name,
                                       std::string *error);
    ~SqlDb();
    SqlDb(const SqlDb &) = delete;
    SqlDb &operator=(const SqlDb &) = delete;

    // done() gets the rows or the failure, once: before query() returns (up to 2.4.1 the mysql
    // driver, connected, answers at once) or later from the ioloop (since 2.4.2 lib-sql always
    // answers on a later round; any version when the query waits for a connection). A done()
    // not yet run when the SqlDb goes never runs.
    void query(const vstore::vpopmail_sql::Statement &st, std::function<void(SqlResult)> done);
    // A write in its own transaction; done() gets "" or the error, as for query().
    void update(const vstore::vpopmail_sql::Statement &st, std::function<void(const std::string &error)> done);

    struct Call;  // a query or update lib-sql has not called back yet (dovecot_sql.cc)

private:
    SqlDb(vstore::vpopmail_sql::Connection c, std::string name) : conn_(std::move(c)), name_(std::move(name)) {}
    // A lib-sql handle for conn_ (2.3: a connect string; 2.4: mysql settings given in code).
    struct sql_db *init(std::string *error);
    // lib-sql waits longer and longer (up to half an hour) before it tries a lost server
    // again; a fresh handle tries at once. At most once a second, and only when no done()
    // is due: dropping the old handle answers what it still holds.
    void reopen_if_lost();
    // The end of a call, before its done() runs (not when the SqlDb is closing).
    void finished(bool failed);

    vstore::vpopmail_sql::Connection conn_;
    std::string name_;
    struct sql_db *db_ = nullptr;
    struct settings_instance *settings_ = nullptr;  // 2.4: what the handle was made from
    std::unordered_set<Call *> calls_;              // the calls lib-sql holds
    unsigned pending_ = 0;                           // calls whose done() is due
    bool lost_ = false;
    bool closing_ = false;  // in ~SqlDb: lib-sql's answers go to no done()
    long long last_reopen_ = 0;
};

/* Calls fn from the ioloop as soon as the current callback has returned. */
void run_soon(std::function<void()> fn);

/* The process lib-sql runs in, given by what links dovecot_sql.cc: the auth process
   (dovecot_sql_auth.cc, in the module) or vstore's MySQL helper (dovecot_standalone.cc). */
struct event *sql_parent_event();  // the parent of the SQL handles' events
void sql_load_mysql_driver();      // loads driver_mysql when lib-sql does not know it yet

}  // namespace compat
