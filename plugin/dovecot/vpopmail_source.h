// Where the vpopmail driver finds an account: its store (users/cdb, each domain's
// vpasswd.cdb) and, with backend=mysql, vpopmail's database through Dovecot's SQL layer. One
// per driver settings, shared by the passdb and the userdb; the rules stay the store's.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dovecot_sql.h"
#include "vpopmail_sql.h"
#include "vpopmail_store.h"

struct auth_request;

namespace glue {

class VpopmailSource {
public:
    // With backend=mysql, reads the connection file (at start-up, as root: it is 0640
    // vpopmail); a file that cannot be used throws std::invalid_argument with the reason.
    // files: how the store's files are reached (file_access.h).
    VpopmailSource(vstore::VpopmailSettings settings, vstore::FileAccess &files);

    vstore::VpopmailStore &store() { return store_; }
    const vstore::VpopmailSettings &settings() const { return store_.settings(); }

    using Found = std::function<void(const vstore::Outcome &, vstore::VpopmailAccount &)>;
    // The account of a login, into *account (the caller's, kept until done runs): users/cdb
    // first, then its record. done runs once, before find() returns or later from Dovecot's
    // ioloop; when find() throws, it has neither run nor been kept. With backend=mysql the
    // lookups asked for in one round of the ioloop go to the server together, one query per
    // table.
    void find(std::string_view login, vstore::VpopmailAccount *account, Found done);

    // vchkpw's lastauth after a successful login: <user dir>/lastauth, or a row of table
    // lastauth. Logged, never failing the login; the database write runs after the reply.
    // (vpopmail_lastauth.cc: the auth process only; vstore never writes lastauth.)
    void write_lastauth(struct auth_request *r, const vstore::VpopmailAccount &account);

    // The store's start-up problems for this backend, checked on a store of its own: the
    // live store's caches and watches are made by lookups only.
    std::vector<std::string> startup_problems()
    {
        const bool mysql = read_ != nullptr;
        return vstore::VpopmailStore(store_.settings(), store_.files()).startup_problems(!mysql, mysql && !layout_.limits_table);
    }

    // Every user of every real domain (backend=mysql): names, or the failure.
    void list(std::function<void(const vstore::Outcome &, std::vector<std::string>)> done);

private:
    void found_row(const compat::SqlResult &result, vstore::VpopmailAccount *account, vstore::Outcome *o);

    // Dovecot's mysql driver answers in the calling process: a query per login would hold the
    // auth process for a round trip each. Lookups wait for the end of the ioloop round.
    struct Pending {
        vstore::VpopmailAccount *account;  // the caller's
        Found done;
    };
    void query_pending();
    void query_batch(std::vector<Pending> batch);
    void write_pending_lastauth();
    // Runs fn at the end of this ioloop round, once however often asked before then
    // (*scheduled says it is due; cleared before fn runs).
    void once_this_round(bool *scheduled, void (VpopmailSource::*fn)());

    vstore::VpopmailStore store_;
    vstore::vpopmail_sql::Layout layout_;
    std::unique_ptr<compat::SqlDb> read_, update_;  // update_ unset: read_ writes too
    // when this process last wrote a user's lastauth row (lastauth_interval)
    std::unordered_map<std::string, time_t> lastauth_written_;
    std::map<std::string, std::vector<Pending>> pending_;  // by table ("" for table vpopmail)
    bool query_scheduled_ = false;
    std::vector<vstore::vpopmail_sql::LastauthRow> lastauth_pending_;
    bool lastauth_scheduled_ = false;
    std::shared_ptr<char> alive_ = std::make_shared<char>();  // for the scheduled query
};

}  // namespace glue
