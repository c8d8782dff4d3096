#include "vpopmail_source.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <ctime>
#include <stdexcept>

namespace glue {

namespace {

// Lookups in one query at most (each its own SELECT of a UNION ALL).
constexpr size_t kMaxBatch = 64;

}  // namespace

using vstore::Outcome;
using vstore::Verdict;

VpopmailSource::VpopmailSource(vstore::VpopmailSettings settings, vstore::FileAccess &files)
    : store_(std::move(settings), files)
{
    const vstore::VpopmailSettings &s = store_.settings();
    if (s.backend != vstore::VpopmailSettings::Backend::Mysql)
        return;
    layout_.many_domains = s.many_domains;
    layout_.limits_table = s.mysql_limits;
    std::string text, error;
    Outcome o = store_.read_vpopmail_file(s.mysql_config, &text);
    if (!o.is_ok())
        throw std::invalid_argument("backend=mysql: " + o.reason + " (mysql_config=)");
    auto file = vstore::vpopmail_sql::parse_connection_file(text, &error);
    if (!file)
        throw std::invalid_argument("backend=mysql: " + s.mysql_config + ": " + error);
    // Reads on the first line's connection (vpopmail's read-only one when it has two), the
    // lastauth writes on the second.
    read_ = compat::SqlDb::open(file->read, "read", &error);
    if (read_ == nullptr)
        throw std::invalid_argument("backend=mysql: " + error);
    const auto &r = file->read, &u = file->update;
    if (u.host != r.host || u.port != r.port || u.socket != r.socket || u.user != r.user || u.password != r.password ||
        u.database != r.database) {
        update_ = compat::SqlDb::open(file->update, "update", &error);
        if (update_ == nullptr)
            throw std::invalid_argument("backend=mysql: " + error);
    }
}

void VpopmailSource::find(std::string_view login, vstore::VpopmailAccount *account, Found done)
{
    if (read_ == nullptr) {
        const Outcome o = store_.lookup(login, account);
        done(o, *account);
        return;
    }
    Outcome o = store_.resolve(login, account);
    if (o.is_ok() && !layout_.many_domains) {
        if (auto why = vstore::vpopmail_sql::table_refusal(account->domain.real_domain))
            o = Outcome::fail(Verdict::UserUnknown, *why);
    }
    if (!o.is_ok()) {
        done(o, *account);
        return;
    }
    // Scheduled first: a lookup kept is always queried (a query with none kept does nothing).
    once_this_round(&query_scheduled_, &VpopmailSource::query_pending);
    pending_[layout_.many_domains ? std::string() : account->domain.real_domain].push_back({account, std::move(done)});
}

void VpopmailSource::once_this_round(bool *scheduled, void (VpopmailSource::*fn)())
{
    if (*scheduled)
        return;
    compat::run_soon([this, scheduled, fn, alive = std::weak_ptr<char>(alive_)] {
        if (alive.lock() == nullptr)
            return;
        *scheduled = false;
        (this->*fn)();
    });
    *scheduled = true;  // (not before: a run_soon() that throws has scheduled nothing)
}

void VpopmailSource::query_pending()
{
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto &[table, lookups] : pending) {
        for (size_t i = 0; i < lookups.size(); i += kMaxBatch) {
            const auto end = lookups.begin() + static_cast<std::ptrdiff_t>(std::min(lookups.size(), i + kMaxBatch));
            query_batch(std::vector<Pending>(std::make_move_iterator(lookups.begin() + static_cast<std::ptrdiff_t>(i)),
                                             std::make_move_iterator(end)));
        }
    }
}

void VpopmailSource::query_batch(std::vector<Pending> batch)
{
    auto lookups = std::make_shared<std::vector<Pending>>(std::move(batch));
    // one lookup: its own query; several: each one's own query, tagged, in a UNION ALL
    std::vector<vstore::vpopmail_sql::UserKey> keys;
    for (const Pending &p : *lookups)
        keys.push_back({p.account->user, p.account->domain.real_domain});
    const auto st = keys.size() == 1
                        ? vstore::vpopmail_sql::user_statement(layout_, keys[0].user, keys[0].real_domain)
                        : vstore::vpopmail_sql::users_statement(layout_, keys);
    read_->query(st, [this, lookups](compat::SqlResult result) {
        // each lookup gets what its own query would have returned: its rows, in order
        std::vector<compat::SqlResult> own(lookups->size());
        for (compat::SqlResult &r : own) {
            r.failed = result.failed;
            r.error = result.error;
        }
        for (compat::SqlRow &row : result.rows) {
            if (own.size() == 1) {
                own[0].rows.push_back(std::move(row));
                continue;
            }
            const auto tag = row.get(vstore::vpopmail_sql::kRequestColumn);
            char *end = nullptr;
            const unsigned long i = tag ? std::strtoul(tag->c_str(), &end, 10) : 0;
            if (tag && *end == '\0' && i < own.size())
                own[i].rows.push_back(std::move(row));
        }
        for (size_t i = 0; i < lookups->size(); i++) {
            Pending &p = (*lookups)[i];
            Outcome found;
            // every lookup of the batch is answered, whatever one row does
            try {
                found_row(own[i], p.account, &found);
            } catch (const std::exception &e) {
                found = Outcome::fail(Verdict::StoreFault, std::string("internal error: ") + e.what());
            }
            p.done(found, *p.account);
        }
    });
}

void VpopmailSource::found_row(const compat::SqlResult &result, vstore::VpopmailAccount *a, Outcome *o)
{
    const std::string where = layout_.many_domains
                                  ? std::string("table vpopmail")
                                  : "table " + vstore::vpopmail_sql::munch_domain(a->domain.real_domain);
    if (result.failed) {
        // (vstore check tells a failed query from a bad row by this "MySQL query" prefix)
        *o = Outcome::fail(Verdict::StoreFault, "MySQL query for " + a->user + "@" + a->domain.real_domain +
                                                    " failed: " + result.error);
        return;
    }
    if (result.rows.empty()) {
        *o = Outcome::fail(Verdict::UserUnknown,
                           "user " + a->user + " of " + a->domain.real_domain + " is not in " + where);
        return;
    }
    const compat::SqlRow &row = result.rows.front();
    auto column = [&row](const char *name) { return row.get(name); };
    std::string error;
    auto record = vstore::vpopmail_sql::record_from_row(column, &error);
    if (!record) {
        *o = Outcome::fail(Verdict::StoreFault, where + ", user " + a->user + ": " + error);
        return;
    }
    uint32_t mask = 0;
    if (layout_.limits_table) {
        auto from_table = vstore::vpopmail_sql::limits_mask_from_row(column);
        *o = from_table ? Outcome::ok() : store_.default_limits(&mask);
        if (from_table)
            mask = *from_table;
    } else {
        *o = store_.file_limits(a->domain, &mask);
    }
    if (o->is_ok())
        *o = store_.accept_record(a, std::move(*record), mask, where);
}

void VpopmailSource::list(std::function<void(const Outcome &, std::vector<std::string>)> done)
{
    // The real domains from users/cdb, then each one's users from the database.
    std::vector<std::string> domains;
    std::string error;
    if (!store_.real_domains(&domains, &error)) {
        done(Outcome::fail(Verdict::StoreFault, error), {});
        return;
    }
    struct State {
        std::vector<std::string> domains, users;
        size_t next = 0;
        std::function<void(const Outcome &, std::vector<std::string>)> done;
    };
    auto state = std::make_shared<State>();
    state->domains = std::move(domains);
    state->done = std::move(done);
    auto step = std::make_shared<std::function<void()>>();
    *step = [this, state, step] {
        while (state->next < state->domains.size()) {
            const std::string domain = state->domains[state->next++];
            if (!layout_.many_domains && vstore::vpopmail_sql::table_refusal(domain))
                continue;
            read_->query(vstore::vpopmail_sql::list_statement(layout_, domain),
                         [state, step, domain](compat::SqlResult result) {
                             if (result.failed) {
                                 auto done = std::move(state->done);
                                 *step = nullptr;
                                 done(Outcome::fail(Verdict::StoreFault, "MySQL: listing " + domain + ": " +
                                                                             result.error),
                                      {});
                                 return;
                             }
                             for (const auto &row : result.rows)
                                 if (auto name = row.get("pw_name"))
                                     state->users.push_back(*name + "@" + domain);
                             compat::run_soon([step] {
                                 if (*step)
                                     (*step)();
                             });
                         });
            return;
        }
        auto done = std::move(state->done);
        auto users = std::move(state->users);
        *step = nullptr;
        done(Outcome::ok(), std::move(users));
    };
    (*step)();
}

}  // namespace glue
