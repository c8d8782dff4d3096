#include "vpopmail_store.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>


namespace vstore {

using vpopmail::AssignRecord;

namespace {

// vpopmail's one-line or few-line files: defaultdomain, vpopmail.mysql, and the limits files
// (.qmailadmin-limits, written by the domain's owner, and vlimits.default), which
// vlimits_write_limits_file() makes of ~25 "keyword: value" lines, under 1 KiB. Over the cap
// (found from fstat() before reading) the file is a store fault of its domain: an owner
// cannot make the auth process keep MiB per file (the cache holds at most 4096 files).
constexpr size_t kMaxSettingsFile = 8 * 1024;
// A text vpasswd is read only while a domain's vpasswd.cdb is missing (vpopmail's tools write
// both at every change): 2 MiB is ~10,000 users at vpopmail's longest lines. The few read
// are cached and not kept with the domain, so they pin at most 16 MiB whatever the owners write.
constexpr size_t kMaxTextVpasswd = 2 * 1024 * 1024;
constexpr size_t kMaxTextVpasswdEntries = 8;

}  // namespace

VpopmailStore::VpopmailStore(VpopmailSettings settings, FileAccess &files)
    : settings_(std::move(settings)),
      files_(files),
      watcher_(settings_.access.shared_fs, files_),
      cdbs_(files_, &watcher_),
      settings_texts_(kMaxSettingsFile, files_, &watcher_),
      vpasswd_texts_(kMaxTextVpasswd, files_, &watcher_, kMaxTextVpasswdEntries),
      assign_path_(join_path(settings_.qmail_dir, "users/cdb"))
{
    // A root-owned vpopmail_dir is root's to write: read it as the process.
    struct stat st;
    if (::stat(settings_.vpopmail_dir.c_str(), &st) == 0 && st.st_uid != 0 && st.st_gid != 0)
        etc_owner_ = FsOwner{st.st_uid, st.st_gid, "the owner of " + settings_.vpopmail_dir};
}

std::string VpopmailStore::assign_path() const { return assign_path_; }

namespace {

// Who a domain's files are opened as: its uid/gid in users/cdb, never root.
Outcome domain_owner(const AssignRecord &d, FsOwner *out)
{
    if (d.uid == 0 || d.gid == 0)
        return Outcome::fail(Verdict::StoreFault, "domain " + d.real_domain + " has uid " + std::to_string(d.uid) +
                                                      " and gid " + std::to_string(d.gid) +
                                                      " in users/cdb: a vpopmail domain never belongs to root");
    *out = FsOwner{d.uid, d.gid, "domain " + d.real_domain};
    return Outcome::ok();
}

}  // namespace

// qmail's users/cdb, or why it cannot be read (naming the setting that chose the path).
Outcome VpopmailStore::open_assign(CdbCache::Result *c)
{
    *c = cdbs_.get(assign_path_);
    if (c->file != nullptr)
        return Outcome::ok();
    return Outcome::fail(Verdict::StoreFault,
                         "cannot open qmail's assign database: " + c->error +
                             (c->missing ? " (run qmail-newu, or check qmail_dir=)" : " (qmail_dir=)"));
}

void VpopmailStore::note_alias(VpopmailAccount *out)
{
    if (out->domain.real_domain != out->login_domain)
        out->notes.push_back("domain " + out->login_domain + " is an alias of " + out->domain.real_domain);
}

Outcome VpopmailStore::resolve_default_domain(std::string *domain)
{
    if (!settings_.default_domain.empty()) {
        *domain = settings_.default_domain;
        return Outcome::ok();
    }
    const std::string path = join_path(settings_.vpopmail_dir, "etc/defaultdomain");
    TextFileCache::Result r = settings_texts_.get(path, etc_owner_ ? &*etc_owner_ : nullptr);
    if (r.content == nullptr) {
        if (r.missing)
            return Outcome::fail(Verdict::UserUnknown,
                                 "login has no domain and there is no default domain (" + path +
                                     " does not exist, default_domain= not set)");
        return Outcome::fail(Verdict::StoreFault,
                             "cannot read the default domain: " + r.error + " (vpopmail_dir=, or set default_domain=)");
    }
    std::string d = vpopmail::ascii_lower(first_line(*r.content));
    if (d.empty() || !vpopmail::is_domain_valid(d))
        return Outcome::fail(Verdict::StoreFault, path + " does not hold a valid domain name");
    *domain = std::move(d);
    return Outcome::ok();
}

// Everything a lookup needs from the domain's side: its assign record, its user store and its
// limits. Reused without touching the files while the watcher reports no change in any of
// the directories they came from.
Outcome VpopmailStore::domain_state(const std::string &domain, const DomainState **out)
{
    auto it = domains_.find(domain);
    if (it != domains_.end() && it->second.cacheable && it->second.epoch == watcher_.epoch()) {
        *out = &it->second;
        return Outcome::ok();
    }
    if (it != domains_.end() && it->second.sources.unchanged(files_)) {
        // a shared file system, or a change elsewhere: lstat() says none of its files changed
        it->second.epoch = watcher_.epoch();
        *out = &it->second;
        return Outcome::ok();
    }
    DomainState st;
    st.epoch = watcher_.epoch();
    CdbCache::Result c;
    Outcome o = open_assign(&c);
    if (!o.is_ok())
        return o;
    st.sources.add(assign_path_, &c.stamp);
    bool cacheable = c.watched;
    o = assign_record(*c.file, domain, &st.record);
    if (!o.is_ok())
        return o;
    FsOwner owner;
    domain_owner(st.record, &owner);
    const FsOwner *reader = &owner;
    st.cdb_path = join_path(st.record.dir, "vpasswd.cdb");
    CdbCache::Result u = cdbs_.get(st.cdb_path, reader);
    cacheable = cacheable && u.watched;
    st.sources.add(st.cdb_path, u.file != nullptr ? &u.stamp : nullptr, reader);
    if (u.file != nullptr) {
        st.users = u.file;
    } else if (u.missing) {
        // vpopmail rebuilds a missing cdb from the text file; we read the text file instead.
        st.text_path = join_path(st.record.dir, "vpasswd");
        TextFileCache::Result t = vpasswd_texts_.get(st.text_path, reader);
        if (t.content == nullptr)
            return Outcome::fail(Verdict::StoreFault, "domain " + st.record.real_domain +
                                                          " has no readable user store: " + u.error + "; " + t.error);
        cacheable = cacheable && t.watched;
        st.sources.add(st.text_path, &t.stamp, reader);
    } else {
        return Outcome::fail(Verdict::StoreFault, "cannot open the user store: " + u.error);
    }

    bool watched = true;
    Outcome lo = read_limits(st.record.dir, reader, &st.limits_mask, &watched, &st.sources);
    if (!lo.is_ok())
        return lo;
    cacheable = cacheable && watched;
    st.cacheable = cacheable;
    if (domains_.size() >= 100000)
        domains_.clear();
    DomainState &slot = domains_[domain];
    slot = std::move(st);
    *out = &slot;
    return Outcome::ok();
}

Outcome VpopmailStore::lookup_user(const DomainState &d, const std::string &user, VpopmailAccount *out)
{
    std::string_view value;
    std::string value_storage;
    std::shared_ptr<const std::string> text;  // holds a text vpasswd while value points into it
    const std::string *source = &d.cdb_path;
    if (d.users != nullptr) {
        CdbFile::Hit hit = d.users->find(user, vpopmail::kMaxRecordBytes);
        if (hit.status == CdbFile::Status::Corrupt)
            return Outcome::fail(Verdict::StoreFault, "lookup of " + user + ": " + hit.error);
        if (hit.status == CdbFile::Status::NotFound)
            return Outcome::fail(Verdict::UserUnknown, "user " + user + " is not in " + d.cdb_path);
        value_storage = std::move(hit.value);
        value = value_storage;
    } else {
        source = &d.text_path;
        // fetched again at each lookup rather than kept with the domain: see kMaxTextVpasswd
        FsOwner owner;
        domain_owner(d.record, &owner);
        TextFileCache::Result t = vpasswd_texts_.get(d.text_path, &owner);
        if (t.content == nullptr)
            return Outcome::fail(Verdict::StoreFault, "domain " + d.record.real_domain +
                                                          " has no readable user store: " + d.cdb_path +
                                                          " is missing; " + t.error);
        text = t.content;
        auto line = vpopmail::find_vpasswd_line(*text, user);
        if (!line)
            return Outcome::fail(Verdict::UserUnknown, "user " + user + " is not in " + d.text_path);
        value = *line;
        out->notes.push_back(d.cdb_path + " is missing; read the text " + d.text_path +
                             " instead (run vmkpasswd " + d.record.real_domain + ")");
    }
    std::string error;
    auto rec = vpopmail::parse_vpasswd_value(value, &error);
    if (!rec)
        return Outcome::fail(Verdict::StoreFault, *source + ", user " + user + ": " + error);
    return accept_record(out, std::move(*rec), d.limits_mask, *source);
}

Outcome VpopmailStore::accept_record(VpopmailAccount *out, vpopmail::VpasswdRecord record, uint32_t limits_mask,
                                     const std::string &source) const
{
    out->pw = std::move(record);
    if (!out->pw.dir.empty()) {
        // The record's writer chose this path; it may only name a place inside the domain.
        if (auto why = home_refusal(out->pw.dir, out->domain.dir, settings_.access.home_roots))
            return Outcome::fail(Verdict::StoreFault, source + ", user " + out->user + ": " + *why);
    }
    out->limits_mask = limits_mask;
    out->flags = vpopmail::effective_flags(out->pw.flags, limits_mask);
    return Outcome::ok();
}

Outcome VpopmailStore::parse_login_domain(std::string_view login, VpopmailAccount *out)
{
    *out = VpopmailAccount();
    watcher_.poll();
    vpopmail::ParsedLogin parsed = vpopmail::parse_login(login);
    if (!parsed.ok)
        return Outcome::fail(Verdict::InvalidLogin, parsed.error);
    out->user = std::move(parsed.user);
    out->login_domain = std::move(parsed.domain);
    if (out->login_domain.empty()) {
        Outcome o = resolve_default_domain(&out->login_domain);
        if (!o.is_ok())
            return o;
        out->notes.push_back("no domain in login: using default domain " + out->login_domain);
    }
    return Outcome::ok();
}

Outcome VpopmailStore::lookup(std::string_view login, VpopmailAccount *out)
{
    Outcome o = parse_login_domain(login, out);
    if (!o.is_ok())
        return o;
    const DomainState *d = nullptr;
    o = domain_state(out->login_domain, &d);
    if (!o.is_ok())
        return o;
    out->domain = d->record;
    note_alias(out);
    // the home check needs the real domain's directory: accept_record() (via lookup_user) runs after
    return lookup_user(*d, out->user, out);
}

Outcome VpopmailStore::resolve(std::string_view login, VpopmailAccount *out)
{
    Outcome o = parse_login_domain(login, out);
    if (!o.is_ok())
        return o;
    CdbCache::Result c;
    o = open_assign(&c);
    if (o.is_ok())
        o = assign_record(*c.file, out->login_domain, &out->domain);
    if (o.is_ok())
        note_alias(out);
    return o;
}

Outcome VpopmailStore::assign_record(const CdbFile &assign, const std::string &domain, vpopmail::AssignRecord *out) const
{
    const std::string key = "!" + domain + "-";
    CdbFile::Hit hit = assign.find(key);
    if (hit.status == CdbFile::Status::Corrupt)
        return Outcome::fail(Verdict::StoreFault, "lookup of " + key + ": " + hit.error);
    if (hit.status == CdbFile::Status::NotFound)
        return Outcome::fail(Verdict::UserUnknown, "domain " + domain + " is not in " + assign_path_);
    std::string error;
    auto rec = vpopmail::parse_assign_value(hit.value, &error);
    if (!rec)
        return Outcome::fail(Verdict::StoreFault, assign_path_ + ", key " + key + ": " + error);
    FsOwner owner;
    Outcome o = domain_owner(*rec, &owner);
    if (!o.is_ok())
        return o;
    *out = std::move(*rec);
    return Outcome::ok();
}

// A domain's limits: <domain dir>/.qmailadmin-limits, else <vpopmail_dir>/etc/vlimits.default,
// else none (as vpopmail).
Outcome VpopmailStore::read_limits(const std::string &domain_dir, const FsOwner *reader, uint32_t *mask,
                                   bool *watched, FileSources *sources)
{
    *mask = 0;
    for (const std::string &lpath :
         {join_path(domain_dir, ".qmailadmin-limits"), join_path(settings_.vpopmail_dir, "etc/vlimits.default")}) {
        TextFileCache::Result r = settings_texts_.get(lpath, reader);
        *watched = *watched && r.watched;
        if (sources != nullptr)
            sources->add(lpath, r.content != nullptr ? &r.stamp : nullptr, reader);
        if (r.content != nullptr) {
            *mask = vpopmail::parse_limits_mask(*r.content);
            return Outcome::ok();
        }
        if (!r.missing)
            return Outcome::fail(Verdict::StoreFault, "cannot read domain limits: " + r.error);
    }
    return Outcome::ok();
}

Outcome VpopmailStore::file_limits(const vpopmail::AssignRecord &domain, uint32_t *mask)
{
    FsOwner owner;
    Outcome o = domain_owner(domain, &owner);
    bool watched = true;
    return o.is_ok() ? read_limits(domain.dir, &owner, mask, &watched, nullptr) : o;
}

Outcome VpopmailStore::read_vpopmail_file(const std::string &path, std::string *content)
{
    TextFileCache::Result r = settings_texts_.get(path, etc_owner_ ? &*etc_owner_ : nullptr);
    if (r.content == nullptr)
        return Outcome::fail(Verdict::StoreFault, "cannot read " + path + ": " + r.error);
    *content = *r.content;
    return Outcome::ok();
}

Outcome VpopmailStore::default_limits(uint32_t *mask)
{
    const std::string path = join_path(settings_.vpopmail_dir, "etc/vlimits.default");
    TextFileCache::Result r = settings_texts_.get(path, etc_owner_ ? &*etc_owner_ : nullptr);
    if (r.content == nullptr && !r.missing)
        return Outcome::fail(Verdict::StoreFault, "cannot read domain limits: " + r.error);
    *mask = r.content == nullptr ? 0 : vpopmail::parse_limits_mask(*r.content);
    return Outcome::ok();
}

Outcome VpopmailStore::check_service(const VpopmailAccount &account, std::string_view service,
                                     std::string_view remote_ip) const
{
    bool webmail = false;
    IpAddress rip;
    if (!remote_ip.empty() && IpAddress::parse(remote_ip, &rip)) {
        for (const IpAddress &ip : settings_.webmail_ips)
            webmail = webmail || ip == rip;
    }
    auto why = vpopmail::service_refusal(account.flags, service, webmail);
    if (!why)
        return Outcome::ok();
    return Outcome::fail(Verdict::Disabled,
                         *why + " (user flags " + vpopmail::flags_to_string(account.pw.flags) +
                             ", domain limits " + vpopmail::flags_to_string(account.limits_mask) + ")");
}

namespace {

// Whether lastauth, written at `mtime`, is less than `interval` seconds older than `now`.
bool young(time_t mtime, time_t now, unsigned interval)
{
    return mtime <= now && now - mtime < static_cast<time_t>(interval);
}

// Users whose lastauth age this process remembers; past it the old ones are forgotten.
constexpr size_t kMaxRemembered = 200000;

}  // namespace

bool VpopmailStore::lastauth_recent(const VpopmailAccount &account, time_t now) const
{
    auto known = lastauth_young_.find(account.pw.dir);
    return settings_.lastauth_interval > 0 && known != lastauth_young_.end() &&
           young(known->second, now, settings_.lastauth_interval);
}

Outcome VpopmailStore::touch_lastauth(const VpopmailAccount &account, std::string_view remote_ip,
                                      time_t now, bool *written) const
{
    *written = false;
    const std::string &dir = account.pw.dir;
    if (dir.empty())
        return Outcome::fail(Verdict::StoreFault, "no user directory to write lastauth in");
    if (lastauth_recent(account, now))
        return Outcome::ok();
    const unsigned interval = settings_.lastauth_interval;
    if (lastauth_young_.size() >= kMaxRemembered) {
        for (auto it = lastauth_young_.begin(); it != lastauth_young_.end();)
            it = young(it->second, now, interval) ? std::next(it) : lastauth_young_.erase(it);
        if (lastauth_young_.size() >= kMaxRemembered)
            lastauth_young_.clear();
    }
    FsOwner owner;
    Outcome o = domain_owner(account.domain, &owner);
    if (!o.is_ok())
        return o;
    // Another process or host may have written it: one lstat() says so.
    struct stat st;
    if (interval > 0 && files_.lstat(&owner, join_path(dir, "lastauth"), &st).ok() &&
        young(st.st_mtime, now, interval)) {
        lastauth_young_[dir] = st.st_mtime;
        return Outcome::ok();
    }
    // Tried now, written or not: a directory the write fails in is tried (and logged) again
    // after the interval, not at every login.
    if (interval > 0)
        lastauth_young_[dir] = now;
    if (const FsStatus w = files_.replace_lastauth(owner, dir, std::string(remote_ip)); !w.ok())
        return Outcome::fail(Verdict::StoreFault, w.detail.empty() ? w.message("write lastauth in", dir) : w.detail);
    *written = true;
    return Outcome::ok();
}

bool VpopmailStore::Iterator::open_domain(size_t index, std::string *error)
{
    const AssignRecord &d = domains_[index];
    users_cdb_.reset();
    users_text_.reset();
    cdb_pos_ = 0;
    text_pos_ = 0;
    FsOwner owner;
    Outcome o = domain_owner(d, &owner);
    if (!o.is_ok()) {
        *error = o.reason;
        return false;
    }
    CdbCache::Result c = store_.cdbs_.get(join_path(d.dir, "vpasswd.cdb"), &owner);
    if (c.file != nullptr) {
        users_cdb_ = c.file;
        return true;
    }
    if (!c.missing) {
        *error = c.error;
        return false;
    }
    TextFileCache::Result t = store_.vpasswd_texts_.get(join_path(d.dir, "vpasswd"), &owner);
    if (t.content == nullptr) {
        if (t.missing)
            return true;  // a qmail user's assign entry, not a vpopmail domain: nothing to list
        *error = "domain " + d.real_domain + " has no readable user store: " + c.error + "; " + t.error;
        return false;
    }
    users_text_ = t.content;
    return true;
}

bool VpopmailStore::real_domains(const CdbFile &assign, std::vector<AssignRecord> *out, std::string *error) const
{
    unsigned pos = 0;
    std::string key, value;
    int r;
    while ((r = assign.next(&pos, &key, &value, error)) > 0) {
        // "+domain-" lines are stored as "!domain-"; "=" entries are not vpopmail's.
        if (key.size() < 3 || key.front() != '!' || key.back() != '-')
            continue;
        std::string err;
        auto rec = vpopmail::parse_assign_value(value, &err);
        if (!rec || rec->real_domain != key.substr(1, key.size() - 2))
            continue;  // alias domain, or a qmail user that is not a vpopmail domain
        out->push_back(std::move(*rec));
    }
    return r >= 0;
}

bool VpopmailStore::real_domains(std::vector<AssignRecord> *out, std::string *error)
{
    watcher_.poll();
    CdbCache::Result c;
    Outcome o = open_assign(&c);
    if (!o.is_ok()) {
        *error = o.reason;
        return false;
    }
    return real_domains(*c.file, out, error);
}

bool VpopmailStore::real_domains(std::vector<std::string> *out, std::string *error)
{
    std::vector<AssignRecord> domains;
    if (!real_domains(&domains, error))
        return false;
    for (auto &d : domains)
        out->push_back(std::move(d.real_domain));
    return true;
}

VpopmailStore::Iterator::Step VpopmailStore::Iterator::next(std::string *name, std::string *error)
{
    if (!started_) {
        started_ = true;
        if (!store_.real_domains(&domains_, error))
            return Step::Fault;
        domain_index_ = 0;
        if (!domains_.empty() && !open_domain(0, error))
            return Step::Fault;
    }
    while (domain_index_ < domains_.size()) {
        const std::string &domain = domains_[domain_index_].real_domain;
        if (users_cdb_ != nullptr) {
            std::string key, value;
            int r;
            while ((r = users_cdb_->next(&cdb_pos_, &key, &value, error, vpopmail::kMaxRecordBytes)) > 0) {
                // vpopmail 5.4.33's long-line bug leaves junk keys ("\n", line tails)
                if (key.empty() || !vpopmail::is_username_valid(key))
                    continue;
                *name = std::string(key) + "@" + domain;
                return Step::User;
            }
            if (r < 0)
                return Step::Fault;
        } else if (users_text_ != nullptr) {
            const std::string &text = *users_text_;
            while (text_pos_ < text.size()) {
                size_t nl = text.find('\n', text_pos_);
                std::string_view line(text.data() + text_pos_,
                                      (nl == std::string::npos ? text.size() : nl) - text_pos_);
                text_pos_ = nl == std::string::npos ? text.size() : nl + 1;
                std::string_view user = line.substr(0, line.find(':'));
                if (user.size() == line.size() || user.empty() || !vpopmail::is_username_valid(user))
                    continue;
                *name = std::string(user) + "@" + domain;
                return Step::User;
            }
        }
        if (++domain_index_ < domains_.size() && !open_domain(domain_index_, error))
            return Step::Fault;
    }
    return Step::End;
}

std::vector<std::string> VpopmailStore::startup_problems(bool user_files, bool limit_files)
{
    std::vector<std::string> problems;
    struct stat st;
    if (::stat(settings_.vpopmail_dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        problems.push_back(settings_.vpopmail_dir + " is not a directory (vpopmail_dir=): vpopmail's etc/ and "
                                                    "domains/ are expected there");
    if (settings_.default_domain.empty()) {
        std::string domain;
        Outcome o = resolve_default_domain(&domain);
        if (o.verdict == Verdict::StoreFault)
            problems.push_back(o.reason);
    }
    std::vector<std::string> domains;
    std::string error;
    if (!real_domains(&domains, &error)) {
        problems.push_back(error + " (qmail_dir=" + settings_.qmail_dir + ")");
        return problems;
    }
    if (domains.empty()) {
        problems.push_back(assign_path_ + " names no vpopmail domain (qmail_dir=" + settings_.qmail_dir + ")");
        return problems;
    }
    // One domain stands for all: the same owner and modes (vpopmail's tools make them alike).
    const std::string &domain = domains.front();
    if (user_files) {
        const DomainState *d = nullptr;
        Outcome o = domain_state(domain, &d);
        if (o.verdict == Verdict::StoreFault)
            problems.push_back("domain " + domain + ": " + o.reason);
    } else if (limit_files) {
        vpopmail::AssignRecord record;
        CdbCache::Result c = cdbs_.get(assign_path_);
        Outcome o = c.file != nullptr ? assign_record(*c.file, domain, &record) : Outcome::ok();
        uint32_t mask = 0;
        if (o.is_ok())
            o = file_limits(record, &mask);
        if (!o.is_ok())
            problems.push_back("domain " + domain + ": " + o.reason + " (mysql_limits=no reads these files)");
    }
    return problems;
}

}  // namespace vstore
