// vchkpw's lastauth after a login through the driver, from the auth process (vstore, which
// also reads VpopmailSource, never writes it).
#include <algorithm>
#include <cstring>
#include <iterator>
#include <ctime>

#include "dovecot_api.h"
#include "vpopmail_source.h"

namespace glue {

namespace {

// Logins whose lastauth rows one statement writes at most.
constexpr size_t kMaxLastauthRows = 64;

}  // namespace

using vstore::Outcome;

void VpopmailSource::write_lastauth(struct auth_request *r, const vstore::VpopmailAccount &account)
{
    const vstore::VpopmailSettings &s = store_.settings();
    if (!s.lastauth || strcmp(compat::request_service(r), "doveadm") == 0)
        return;
    const time_t now = time(nullptr);
    if (read_ == nullptr) {
        if (store_.lastauth_recent(account, now))
            return;  // most logins: nothing to format, nothing to open
        bool written = false;
        Outcome o = store_.touch_lastauth(account, compat::request_remote_ip(r), now, &written);
        if (!o.is_ok())
            compat::log_warning(r, "vpopmail: cannot update lastauth: " + o.reason);
        else if (written)
            compat::log_debug(r, "vpopmail: updated " + account.pw.dir + "/lastauth");
        return;
    }
    // vchkpw writes at every login; lastauth_interval spares the database as it spares the
    // file (per process: another process may write again within the interval).
    const std::string key = account.user + "@" + account.domain.real_domain;
    auto it = lastauth_written_.find(key);
    if (it != lastauth_written_.end() && it->second <= now && now - it->second < static_cast<time_t>(s.lastauth_interval))
        return;
    if (lastauth_written_.size() > 100000)
        lastauth_written_.clear();
    lastauth_written_[key] = now;
    lastauth_pending_.push_back({account.user, account.domain.real_domain, compat::request_remote_ip(r), now});
    // After the reply: the login never waits for this write. The logins of one ioloop round
    // share one statement (the database answers in this process, each write a round trip).
    once_this_round(&lastauth_scheduled_, &VpopmailSource::write_pending_lastauth);
}

void VpopmailSource::write_pending_lastauth()
{
    auto rows = std::move(lastauth_pending_);
    lastauth_pending_.clear();
    compat::SqlDb *db = update_ != nullptr ? update_.get() : read_.get();
    for (size_t i = 0; i < rows.size(); i += kMaxLastauthRows) {
        const std::vector<vstore::vpopmail_sql::LastauthRow> part(
            rows.begin() + static_cast<std::ptrdiff_t>(i),
            rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), i + kMaxLastauthRows)));
        std::string who;
        for (const auto &row : part)
            who += (who.empty() ? "" : ", ") + row.user + "@" + row.real_domain;
        db->update(vstore::vpopmail_sql::lastauth_statement(part), [who](const std::string &error) {
            if (!error.empty())
                compat::log_global_warning("vpopmail: cannot update lastauth of " + who + ": " + error);
        });
    }
}

}  // namespace glue
