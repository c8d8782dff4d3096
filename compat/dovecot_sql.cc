#include "dovecot_sql.h"

#include "dovecot_version.h"

extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "sql-api.h"
#ifdef VSTORE_DOVECOT_24
#include "master-service.h"
#include "settings.h"
#endif
}

#include <cstring>
#include <string_view>

#include "dovecot_ioloop.h"
#include "log_escape.h"

namespace compat {

// One query or update. The query()/update() call and lib-sql's callback each hold it (the
// callback may come before the call returns); done() runs at most once: on lib-sql's answer or
// on the deadline (a query), never once the SqlDb is closing.
struct SqlDb::Call {
    SqlDb *db;                                             // nullptr once the SqlDb is gone
    std::function<void(SqlResult)> query_done;             // a query's, or
    std::function<void(const std::string &)> update_done;  // an update's
    struct timeout *to = nullptr;                          // a query's deadline
    bool answered = false;                                 // done() has run, or never will
    bool in_caller = true;                                 // query()/update() has not returned
    bool in_lib_sql = true;                                // lib-sql's callback has not come

    // lib-sql's callback has come.
    void lib_sql_done()
    {
        in_lib_sql = false;
        if (db != nullptr)
            db->calls_.erase(this);
    }
    // done() is no longer due; whether it is to run now.
    bool settle()
    {
        answered = true;
        if (to != nullptr)
            timeout_remove(&to);
        return db != nullptr && !db->closing_;
    }
    void answer(SqlResult result)
    {
        if (!settle())
            return;
        db->finished(result.failed);
        try {
            query_done(std::move(result));
        } catch (const std::exception &e) {
            i_error("vpopmail: internal error after an SQL query: %s", vstore::log_escape(e.what()).c_str());
        }
    }
    void answer_update(const std::string &error)
    {
        if (!settle())
            return;
        db->finished(false);
        try {
            update_done(error);
        } catch (const std::exception &e) {
            i_error("vpopmail: internal error after an SQL update: %s", vstore::log_escape(e.what()).c_str());
        }
    }
    static void release(Call *call)
    {
        if (!call->in_caller && !call->in_lib_sql)
            delete call;
    }
};

namespace {

#ifndef VSTORE_DOVECOT_24
// vpopmail connects with a 2 s timeout. Reads and writes get a few seconds: Dovecot's mysql
// driver answers in the calling process, so a server that stops answering holds the auth
// process that long (a refused connection fails at once).
constexpr const char *kTimeouts = " connect_timeout=2 read_timeout=5 write_timeout=5";

bool connect_value(const char *key, const std::string &value, std::string *out, std::string *error)
{
    if (value.find_first_of(" \t\r\n") != std::string::npos) {
        *error = std::string("vpopmail.mysql: the ") + key +
                 " holds white space, which Dovecot 2.3's SQL connect string cannot carry";
        return false;
    }
    if (!value.empty())
        *out += std::string(" ") + key + "=" + value;
    return true;
}
#endif

// What a handle that cannot be made may lack. (Debian 13 has dovecot-mysql; it became
// dovecot-mariadb in Debian's 2.4.4, with dovecot-mysql a transitional package for it.)
constexpr const char *kNoDriver =
    " (is Dovecot's mysql driver installed? Debian: dovecot-mariadb, formerly dovecot-mysql)";

// How long a login waits for the database. lib-sql queues a query while it reconnects, for up
// to a minute; a login gets its temporary failure sooner, and the late answer is dropped.
constexpr unsigned kAnswerMsecs = 5000;

// The current row's columns, each copied only up to kMaxColumnBytes: a longer value stays in
// lib-sql's buffer (freed with the result) and the row is marked instead. Values are C strings
// as vchkpw reads them (up to a NUL).
SqlRow copy_row(struct sql_result *result)
{
    SqlRow row;
    const unsigned n = sql_result_get_fields_count(result);
    for (unsigned i = 0; i < n; i++) {
        const char *name = sql_result_get_field_name(result, i);
        const char *value = sql_result_get_field_value(result, i);
        std::optional<std::string> copied;
        if (value != nullptr) {
            const size_t size = strnlen(value, vstore::vpopmail_sql::kMaxColumnBytes + 1);
            if (size <= vstore::vpopmail_sql::kMaxColumnBytes)
                copied.emplace(value, size);
            else if (!row.oversized)
                row.oversized = vstore::vpopmail_sql::oversized_column_reason(name, strlen(value));
        }
        row.columns.emplace_back(name, std::move(copied));
    }
    return row;
}

void query_done(struct sql_result *result, void *context)
{
    auto *call = static_cast<SqlDb::Call *>(context);
    call->lib_sql_done();
    if (!call->answered) {
        SqlResult out;
        int ret;
        while ((ret = sql_result_next_row(result)) == SQL_RESULT_NEXT_OK)
            out.rows.push_back(copy_row(result));
        if (ret != SQL_RESULT_NEXT_LAST) {
            out.failed = true;
            out.rows.clear();
            out.error = ret == SQL_RESULT_NEXT_MORE ? "the result came in parts" : sql_result_get_error(result);
        }
        // lib-sql frees the result after this returns; everything needed was copied
        call->answer(std::move(out));
    }
    SqlDb::Call::release(call);
}

void query_timeout(void *context)
{
    auto *call = static_cast<SqlDb::Call *>(context);
    SqlResult out;
    out.failed = true;
    out.error = "no answer within " + std::to_string(kAnswerMsecs / 1000) + " s";
    call->answer(std::move(out));  // lib-sql still holds the call: its answer will be dropped
}

void update_done(const struct sql_commit_result *result, void *context)
{
    auto *call = static_cast<SqlDb::Call *>(context);
    call->lib_sql_done();
    if (!call->answered)
        call->answer_update(result->error == nullptr ? "" : result->error);
    SqlDb::Call::release(call);
}

struct sql_statement *statement(struct sql_db *db, const vstore::vpopmail_sql::Statement &st)
{
    struct sql_statement *stmt = sql_statement_init(db, st.text.c_str());
    for (unsigned i = 0; i < st.values.size(); i++)
        sql_statement_bind_str(stmt, i, t_strdup(st.values[i].c_str()));
    return stmt;
}

struct RunSoon {
    std::function<void()> fn;
    struct timeout *to = nullptr;
};

void run_soon_now(void *context)
{
    std::unique_ptr<RunSoon> r(static_cast<RunSoon *>(context));
    cancel_call(&r->to);
    try {
        r->fn();
    } catch (const std::exception &e) {
        i_error("vpopmail: internal error: %s", vstore::log_escape(e.what()).c_str());
    }
}

}  // namespace

std::optional<std::string> SqlRow::get(const char *name) const
{
    if (std::string_view(name) == vstore::vpopmail_sql::kOversizedColumn)
        return oversized;
    for (const auto &[column, value] : columns)
        if (column == name)
            return value;
    return std::nullopt;
}

std::unique_ptr<SqlDb> SqlDb::open(const vstore::vpopmail_sql::Connection &c, const char *name, std::string *error)
{
    std::unique_ptr<SqlDb> db(new SqlDb(c, name));
    db->db_ = db->init(error);
    return db->db_ == nullptr ? nullptr : std::move(db);
}

#ifdef VSTORE_DOVECOT_24
struct sql_db *SqlDb::init(std::string *error)
{
    // 2.4 configures SQL with settings (sql_driver, a mysql { } filter): the connection
    // file's fields become those settings, in an instance of our own.
    const auto &c = conn_;
    struct event *event = event_create(sql_parent_event());
    struct settings_instance *parent = settings_instance_find(event);
    struct settings_instance *inst =
        parent != nullptr ? settings_instance_dup(parent)
                          : settings_instance_new(master_service_get_settings_root(master_service));
    auto set = [inst](const char *key, const std::string &value) {
        settings_override(inst, key, value.c_str(), SETTINGS_OVERRIDE_TYPE_CODE);
    };
    // The mysql { } filter's name is the pool's host list: a name per handle keeps the read
    // and update connections (other users) apart; its host setting is the real host.
    const std::string filter = "vstore_" + name_, prefix = "mysql/" + filter + "/mysql_";
    set("sql_driver", "mysql");
    set("mysql", filter);
    set((prefix + "host").c_str(), !c.socket.empty() ? c.socket : c.host.empty() ? "localhost" : c.host);
    if (c.port != 0 && c.socket.empty())
        set((prefix + "port").c_str(), std::to_string(c.port));
    set((prefix + "user").c_str(), c.user);
    set((prefix + "password").c_str(), c.password);
    set((prefix + "dbname").c_str(), c.database);
    set((prefix + "connect_timeout").c_str(), "2s");
    set((prefix + "read_timeout").c_str(), "5s");
    set((prefix + "write_timeout").c_str(), "5s");
    event_set_ptr(event, SETTINGS_EVENT_INSTANCE, inst);
    struct sql_db *db = nullptr;
    const char *err = nullptr;
    const int ret = sql_init_auto(event, &db, &err);
    event_unref(&event);
    if (ret <= 0) {
        settings_instance_free(&inst);
        *error = std::string("Dovecot's SQL layer: ") + (err != nullptr ? err : "no SQL driver") + kNoDriver;
        return nullptr;
    }
    if (settings_ != nullptr)
        settings_instance_free(&settings_);
    settings_ = inst;
    return db;
}
#else
struct sql_db *SqlDb::init(std::string *error)
{
    const auto &c = conn_;
    std::string connect;
    const std::string host = !c.socket.empty() ? c.socket : c.host.empty() ? "localhost" : c.host;
    if (!connect_value("host", host, &connect, error) ||
        !connect_value("port", c.port == 0 || !c.socket.empty() ? "" : std::to_string(c.port), &connect, error) ||
        !connect_value("user", c.user, &connect, error) || !connect_value("password", c.password, &connect, error) ||
        !connect_value("dbname", c.database, &connect, error))
        return nullptr;
    connect = connect.substr(1) + kTimeouts;
    struct sql_settings set;
    i_zero(&set);
    set.driver = "mysql";
    set.connect_string = connect.c_str();
    set.event_parent = sql_parent_event();
    struct sql_db *db = nullptr;
    const char *err = nullptr;
    if (sql_init_full(&set, &db, &err) < 0) {
        // the auth process loads the SQL drivers of its module dir at start; if it has not
        // (no mysql driver when it started), load it now and try once more
        sql_load_mysql_driver();
        if (sql_init_full(&set, &db, &err) < 0) {
            *error = std::string("Dovecot's SQL layer: ") + err + kNoDriver;
            return nullptr;
        }
    }
    return db;
}
#endif

void SqlDb::reopen_if_lost()
{
    const long long now = static_cast<long long>(time(nullptr));
    // (With no done() due, what the old handle still holds, answered as it goes, is dropped.)
    if (!lost_ || pending_ != 0 || now == last_reopen_)
        return;
    std::string error;
    struct sql_db *old = db_;
    struct sql_db *db = init(&error);
    if (db == nullptr)
        return;
    if (db != old) {  // (2.4 hands back its cached handle for the same settings)
        sql_disconnect(old);
        sql_unref(&old);
    } else {
        sql_unref(&old);
        sql_connect(db);
    }
    db_ = db;
    lost_ = false;
    last_reopen_ = now;
}

void SqlDb::finished(bool failed)
{
    pending_--;
    // any failure may be a lost server: the next query, a second later, gets a fresh handle
    // (a fresh connection attempt)
    if (failed)
        lost_ = true;
}

SqlDb::~SqlDb()
{
    // Every lib-sql aborts the queries queued for a connection in sql_disconnect(), calling
    // them back, and since 2.4.2 it also calls back there the answers it keeps for the next
    // ioloop round: the calls are freed, their done() (their owner is going away) does not run.
    closing_ = true;
    if (db_ != nullptr) {
        sql_disconnect(db_);
        sql_unref(&db_);
    }
    // What lib-sql may hold still (2.4 keeps the handle for other users of the same settings)
    // no longer reaches this object: the deadlines go now, the answers will be dropped.
    for (Call *call : calls_) {
        call->db = nullptr;
        call->settle();
    }
    calls_.clear();
#ifdef VSTORE_DOVECOT_24
    if (settings_ != nullptr)
        settings_instance_free(&settings_);
#endif
}

void SqlDb::query(const vstore::vpopmail_sql::Statement &st, std::function<void(SqlResult)> done)
{
    reopen_if_lost();
    auto *call = new Call{this, std::move(done), nullptr};
    calls_.insert(call);
    pending_++;
    struct sql_statement *stmt = statement(db_, st);
    (sql_statement_query)(&stmt, query_done, call);
    if (call->in_lib_sql)  // not answered yet: lib-sql answers on a later round
        call->to = (timeout_add_short)(kAnswerMsecs, __FILE__, __LINE__, query_timeout, call);
    call->in_caller = false;
    Call::release(call);
}

void SqlDb::update(const vstore::vpopmail_sql::Statement &st, std::function<void(const std::string &)> done)
{
    auto *call = new Call{this, nullptr, std::move(done)};
    calls_.insert(call);
    pending_++;
    struct sql_transaction_context *t = sql_transaction_begin(db_);
    struct sql_statement *stmt = statement(db_, st);
    sql_update_stmt(t, &stmt);
    (sql_transaction_commit)(&t, update_done, call);
    call->in_caller = false;
    Call::release(call);
}

void run_soon(std::function<void()> fn)
{
    auto *r = new RunSoon{std::move(fn)};
    r->to = call_next_round(run_soon_now, r);
}

}  // namespace compat
