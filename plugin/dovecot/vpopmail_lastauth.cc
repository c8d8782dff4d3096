// vchkpw's lastauth after a login through the driver, from the auth process (vstore, which
// also reads VpopmailSource, never writes it).
#include <cstring>
#include <ctime>

#include "dovecot_api.h"
#include "vpopmail_source.h"

namespace glue {

using vstore::Outcome;

void VpopmailSource::write_lastauth(struct auth_request *r, const vstore::VpopmailAccount &account)
{
    const vstore::VpopmailSettings &s = store_.settings();
    if (!s.lastauth || strcmp(compat::request_service(r), "doveadm") == 0)
        return;
    const time_t now = time(nullptr);
    if (read_ == nullptr) {
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
    auto st = vstore::vpopmail_sql::lastauth_statement(account.user, account.domain.real_domain,
                                                        compat::request_remote_ip(r), now);
    compat::SqlDb *db = update_ != nullptr ? update_.get() : read_.get();
    // After the reply: the login never waits for this write.
    compat::run_soon([db, st = std::move(st), key] {
        db->update(st, [key](const std::string &error) {
            if (!error.empty())
                i_warning("vpopmail: cannot update lastauth of %s: %s", key.c_str(), error.c_str());
        });
    });
}

}  // namespace glue
