#include "vmailmgr_store.h"

#include <pwd.h>
#include <sys/stat.h>

#include <iterator>
#include <set>

#include "vmailmgr_paths.h"

namespace vstore {

using vmailmgr::Record;
namespace vp = vmailmgr_paths;

namespace {

// qmail's control/locals and control/virtualdomains are root's and list every domain of the
// host: a line per domain, so large hosts have large files.
constexpr size_t kMaxControlFile = 16 * 1024 * 1024;
constexpr size_t kMaxControlEntries = 16;
// A settings file (~base/.vmailmgr/NAME, written by the base user, or <config_dir>/NAME) is one
// line: a number, a file name, at most a path (PATH_MAX, 4096). Over this it is a store fault
// found from fstat() before it is read, so that a base user cannot make the auth process hold
// MiB per file (the cache keeps at most 4096 files, 16 MiB in all).
constexpr size_t kMaxSettingFile = 4096;

// A base user's files are read with its rights.
FsOwner base_owner(const BaseUser &base) { return FsOwner{base.uid, base.gid, "base user " + base.name}; }

bool has_high_byte(std::string_view s)
{
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80)
            return true;
    return false;
}

}  // namespace

VmailmgrStore::VmailmgrStore(VmailmgrSettings settings, FileAccess &files)
    : settings_(std::move(settings)),
      files_(files),
      watcher_(settings_.access.shared_fs, files_),
      cdbs_(files_, &watcher_),
      control_texts_(kMaxControlFile, files_, &watcher_, kMaxControlEntries),
      setting_texts_(kMaxSettingFile, files_, &watcher_)
{
}

// Separators and the control files, re-read only when the watcher reports a change.
Outcome VmailmgrStore::refresh_globals()
{
    if (globals_.cacheable && globals_.epoch == watcher_.epoch())
        return Outcome::ok();
    bool watched = true;
    Outcome o = Outcome::ok();
    if (settings_.separators)
        globals_.separators = *settings_.separators;
    else
        o = global_setting("separators", "@:", &globals_.separators, &watched);
    std::shared_ptr<const std::string> locals, vdomains;
    bool missing = false;
    if (o.is_ok())
        o = read_control("locals", &locals, &missing, &watched);
    if (o.is_ok())
        o = read_control("virtualdomains", &vdomains, &missing, &watched);
    if (!o.is_ok()) {
        globals_.cacheable = false;
        return o;
    }
    if (locals != control_.locals_text) {
        control_.locals.clear();
        if (locals != nullptr)
            for (std::string &line : vmailmgr::parse_locals(*locals))
                control_.locals.insert(std::move(line));
        control_.locals_text = locals;
    }
    if (vdomains != control_.vd_text) {
        control_.virtualdomains =
            vdomains != nullptr ? vmailmgr::parse_virtualdomains(*vdomains) : std::map<std::string, std::string>();
        control_.prefixes.clear();
        for (const auto &entry : control_.virtualdomains)
            if (!entry.second.empty())
                control_.prefixes.insert(vp::ascii_lowered(entry.second));
        control_.vd_text = vdomains;
    }
    globals_.epoch = watcher_.epoch();
    globals_.cacheable = watched;
    return Outcome::ok();
}

std::optional<std::string> VmailmgrStore::base_refusal(const BaseUser &base) const
{
    if (vp::base_user_served(base.uid, base.gid, base.home, settings_.first_valid_uid))
        return std::nullopt;
    if (base.uid == 0 || base.uid < settings_.first_valid_uid)
        return "base user " + base.name + " has uid " + std::to_string(base.uid) + ", below first_valid_uid " +
               std::to_string(settings_.first_valid_uid) + ": not a vmailmgr base user";
    if (base.gid == 0)
        return "base user " + base.name + " has gid 0: not a vmailmgr base user";
    return "base user " + base.name + " has no home directory of its own";
}

Outcome VmailmgrStore::store_path(const BaseUser &base, std::string *path, bool *watched, FileSources *sources)
{
    std::string name;
    Outcome o = setting(base, std::string(vp::kPasswordFileSetting), std::string(vp::kDefaultPasswordFile), &name,
                        watched, sources);
    if (!o.is_ok())
        return o;
    if (!vp::password_file_name_allowed(name))
        return Outcome::fail(Verdict::StoreFault, base.home + "/" + std::string(vp::kSettingsDir) + "/" +
                                                      std::string(vp::kPasswordFileSetting) + " names '" + name +
                                                      "': it must be a file name in the home, without '/'");
    *path = join_path(base.home, name + std::string(vp::kStoreSuffix));
    return Outcome::ok();
}

// Where a base user's store is, and the store itself, read with the base user's rights.
Outcome VmailmgrStore::base_store(const BaseUser &base, std::shared_ptr<CdbFile> *file, const std::string **path)
{
    auto it = bases_.find(base.name);
    if (it != bases_.end() && it->second.home == base.home &&
        ((it->second.cacheable && it->second.epoch == watcher_.epoch()) || it->second.sources.unchanged(files_))) {
        it->second.epoch = watcher_.epoch();
        *file = it->second.file;
        *path = &it->second.cdb_path;
        return Outcome::ok();
    }
    BaseState st;
    bool watched = true;
    st.epoch = watcher_.epoch();
    st.home = base.home;
    Outcome o = store_path(base, &st.cdb_path, &watched, &st.sources);
    if (!o.is_ok())
        return o;
    const FsOwner owner = base_owner(base);
    CdbCache::Result c = cdbs_.get(st.cdb_path, &owner);
    if (c.file == nullptr) {
        struct stat home;
        if (c.missing && files_.lstat(&owner, base.home, &home).ok())  // an account without virtual users
            return Outcome::fail(Verdict::UserUnknown, "base user " + base.name + " has no " + st.cdb_path);
        if (c.missing)  // the home itself is gone: an unmounted or moved store
            return Outcome::fail(Verdict::StoreFault, "cannot open the user store: " + c.error + " (the home " +
                                                          base.home + " of base user " + base.name + " is missing)");
        return Outcome::fail(Verdict::StoreFault, "cannot open the user store: " + c.error);
    }
    st.sources.add(st.cdb_path, &c.stamp, &owner);
    st.file = c.file;
    st.cacheable = watched && c.watched;
    if (bases_.size() >= 100000)
        bases_.clear();
    BaseState &slot = bases_[base.name];
    slot = std::move(st);
    *file = slot.file;
    *path = &slot.cdb_path;
    return Outcome::ok();
}

std::optional<BaseUser> VmailmgrStore::base_user(const std::string &name)
{
    const time_t now = time(nullptr);
    if (!etc_watched_)
        etc_watched_ = etc_watcher_.watch_parent_of("/etc/passwd");
    auto it = users_.find(name);
    if (etc_watched_ && it != users_.end() && it->second.epoch == etc_watcher_.epoch() &&
        now - it->second.when < 60 && now >= it->second.when)
        return it->second.user;
    std::optional<BaseUser> user = settings_.lookup_base_user(name);
    if (users_.size() >= 10000)
        users_.clear();
    users_[name] = CachedUser{user, etc_watcher_.epoch(), now};
    return user;
}

// A setting file's first line, stripped; a missing file, or one whose first line is empty
// after stripping, leaves the setting unset here (vmailmgr's config_read). One that cannot be
// read (a FIFO, a link, no permission) is a fault: guessing the default could read another store.
Outcome VmailmgrStore::setting_file(const std::string &path, const FsOwner *reader, bool *found, std::string *value,
                                    bool *watched, FileSources *sources)
{
    TextFileCache::Result r = setting_texts_.get(path, reader);
    if (watched != nullptr)
        *watched = *watched && r.watched;
    if (sources != nullptr)
        sources->add(path, r.content != nullptr ? &r.stamp : nullptr, reader);
    *found = false;
    if (r.content == nullptr && !r.missing)
        return Outcome::fail(Verdict::StoreFault, "cannot read the setting " + path + ": " + r.error);
    if (r.content == nullptr)
        return Outcome::ok();
    std::optional<std::string> v = vmailmgr::setting_value(*r.content);
    // read_uns: a numeric setting whose text starts with no number is unset at this level too
    uint32_t number = 0;
    bool too_large = false;
    const std::string name = path.substr(path.rfind('/') + 1);
    if (v && vmailmgr::is_numeric_setting(name) && !vmailmgr::setting_number(*v, &number, &too_large))
        v.reset();
    *found = v.has_value();
    if (v)
        *value = std::move(*v);
    return Outcome::ok();
}

Outcome VmailmgrStore::global_setting(const std::string &name, const std::string &dflt, std::string *value,
                                      bool *watched, FileSources *sources)
{
    bool found = false;
    Outcome o = setting_file(join_path(settings_.config_dir, name), nullptr, &found, value, watched, sources);
    if (o.is_ok() && !found)
        *value = dflt;
    return o;
}

// Per-base settings: ~base/.vmailmgr/NAME, then <config_dir>/NAME.
Outcome VmailmgrStore::setting(const BaseUser &base, const std::string &name, const std::string &dflt,
                               std::string *value, bool *watched, FileSources *sources)
{
    bool found = false;
    const FsOwner owner = base_owner(base);
    const std::string path = join_path(base.home, std::string(vp::kSettingsDir) + "/" + name);
    Outcome o = setting_file(path, &owner, &found, value, watched, sources);
    if (!o.is_ok() || found)
        return o;
    return global_setting(name, dflt, value, watched, sources);
}

Outcome VmailmgrStore::qmail_dir(std::string *dir, bool *watched)
{
    if (!settings_.qmail_dir.empty()) {
        *dir = settings_.qmail_dir;
        return Outcome::ok();
    }
    return global_setting("qmail-root", "/var/qmail", dir, watched);
}

Outcome VmailmgrStore::read_control(const char *name, std::shared_ptr<const std::string> *out, bool *missing,
                                    bool *watched)
{
    std::string dir;
    Outcome o = qmail_dir(&dir, watched);
    if (!o.is_ok())
        return o;
    const std::string path = join_path(dir, std::string("control/") + name);
    TextFileCache::Result r = control_texts_.get(path);
    if (watched != nullptr)
        *watched = *watched && r.watched;
    *missing = r.missing;
    if (r.content == nullptr && !r.missing)
        return Outcome::fail(Verdict::StoreFault,
                             "cannot read " + path + ": " + r.error +
                                 (settings_.qmail_dir.empty() ? " (qmail_dir= unset: <config_dir>/qmail-root, else /var/qmail)"
                                                              : " (qmail_dir=)"));
    *out = r.content;
    return Outcome::ok();
}

Outcome VmailmgrStore::resolve_base(const std::string &prefixed, VmailmgrAccount *out)
{
    std::optional<BaseUser> found;
    const size_t end =
        vp::find_base_user(prefixed, [&](const std::string &name) { return (found = base_user(name)).has_value(); });
    if (end == 0)
        return Outcome::fail(Verdict::UserUnknown, "no base user for '" + prefixed + "'");
    out->base = std::move(*found);
    out->virtual_name = end < prefixed.size() ? prefixed.substr(end + 1) : "";
    return Outcome::ok();
}

std::optional<BaseUser> VmailmgrStore::prefix_base_user(const std::string &prefix)
{
    VmailmgrAccount probe;
    if (!resolve_base(prefix, &probe).is_ok())
        return std::nullopt;
    return std::move(probe.base);
}

bool VmailmgrStore::named_in_virtualdomains(const BaseUser &base)
{
    // A prefix leads to a base user whose name is the prefix or a part of it before a '-'
    // (vmailmgr_paths::find_base_user): only the prefixes that are base.name or start with
    // "base.name-" can lead to it.
    auto leads_here = [&](const std::string &prefix) {
        const auto led = prefix_base_user(prefix);
        return led && led->name == base.name;
    };
    if (control_.prefixes.count(base.name) != 0 && leads_here(base.name))
        return true;
    const std::string dashed = base.name + "-";
    for (auto it = control_.prefixes.lower_bound(dashed);
         it != control_.prefixes.end() && it->compare(0, dashed.size(), dashed) == 0; ++it)
        if (leads_here(*it))
            return true;
    return false;
}

Outcome VmailmgrStore::lookup(std::string_view login, std::string_view local_name, VmailmgrAccount *out)
{
    *out = VmailmgrAccount();
    watcher_.poll();
    etc_watcher_.poll();
    if (login.empty())
        return Outcome::fail(Verdict::InvalidLogin, "empty login");
    for (char c : login)
        if (c == '\0' || c == '\n' || c == '\r')
            return Outcome::fail(Verdict::InvalidLogin, "login contains NUL, CR or LF");
    const std::string lowered = vmailmgr::ascii_lower(login);
    Outcome o = refresh_globals();
    if (!o.is_ok())
        return o;
    const std::string &separators = globals_.separators;
    vmailmgr::SplitLogin split = vmailmgr::split_login(lowered, separators);
    std::string domain;
    if (split.domain) {
        domain = *split.domain;
    } else if (!settings_.default_domain.empty()) {
        domain = settings_.default_domain;
    } else if (!local_name.empty()) {
        domain = std::string(local_name);  // TCPLOCALHOST: not lowercased for locals, as checkvpw
    } else {
        return Outcome::fail(Verdict::UserUnknown,
                             "login has no domain, no default_domain is set and the connection has no local name");
    }
    if (split.name.empty())
        return Outcome::fail(Verdict::InvalidLogin, "empty user name");
    if (domain.empty())
        return Outcome::fail(Verdict::InvalidLogin, "empty domain");
    out->domain = domain;
    out->login_name = split.name;
    out->separator = separators.empty() ? 0 : separators[0];

    std::string prefixed = split.name;
    if (control_.locals.count(domain) == 0) {
        auto prefix = vmailmgr::find_virtual_prefix(control_.virtualdomains, domain);
        if (prefix) {
            prefixed = *prefix + "-" + split.name;
            out->notes.push_back("domain " + out->domain + " -> prefix " + *prefix);
        }
    }
    o = resolve_base(prefixed, out);
    if (!o.is_ok())
        return o;
    if (out->virtual_name.empty()) {
        out->system_user = true;
        // checkvpw checks such a login against the system password; system accounts are for
        // Dovecot's own shadow or pam passdb, not for a virtual-user driver.
        return Outcome::fail(Verdict::UserUnknown, "'" + prefixed + "' is the base user " + out->base.name +
                                                       " itself, a system account");
    }
    out->notes.push_back("base user " + out->base.name + ", virtual user " + out->virtual_name);
    if (auto why = base_refusal(out->base))
        return Outcome::fail(Verdict::UserUnknown, *why);
    // Any Unix account would do for checkvpw. Here only those root's control/virtualdomains
    // names are base users: reading another's home would fail (the broker serves only those)
    // or tell whether it exists, so every other account answers as a name that does not exist.
    if (!named_in_virtualdomains(out->base))
        return Outcome::fail(Verdict::UserUnknown, "'" + out->base.name +
                                                       "' is no base user control/virtualdomains names");

    std::shared_ptr<CdbFile> file;
    const std::string *path_p = nullptr;
    o = base_store(out->base, &file, &path_p);
    if (!o.is_ok())
        return o;
    const std::string &path = *path_p;
    CdbFile::Hit hit = file->find(out->virtual_name, vmailmgr::kMaxRecordBytes);
    if (hit.status == CdbFile::Status::NotFound && has_high_byte(out->virtual_name)) {
        // vmailmgr's writer hashed through a signed char: retry the way it placed the key
        hit = file->find_signed_char_hash(out->virtual_name, vmailmgr::kMaxRecordBytes);
        if (hit.status == CdbFile::Status::Found)
            out->notes.push_back("found with vmailmgr's signed-char cdb hash");
    }
    if (hit.status == CdbFile::Status::Corrupt)
        return Outcome::fail(Verdict::StoreFault, "lookup of " + out->virtual_name + ": " + hit.error);
    if (hit.status == CdbFile::Status::NotFound)
        return Outcome::fail(Verdict::UserUnknown, "user " + out->virtual_name + " is not in " + path);

    vmailmgr::Limits defaults;
    if (!hit.value.empty() && hit.value[0] == ':') {
        uint32_t *fields[] = {&defaults.hardquota, &defaults.softquota, &defaults.msgsize,
                              &defaults.msgcount, &defaults.expiry};
        static_assert(std::size(vp::kLimitSettings) == std::size(fields));
        for (size_t i = 0; i < std::size(fields); i++) {
            const std::string name(vp::kLimitSettings[i]);
            std::string v;
            o = setting(out->base, name, "-", &v, nullptr);
            if (!o.is_ok())
                return o;
            bool too_large = false;
            if (!vmailmgr::setting_number(v, fields[i], &too_large) || too_large)
                return Outcome::fail(Verdict::StoreFault,
                                     "setting " + name + " '" + v + "' does not fit in 32 bits");
        }
        // default-expiry is a time from now (vmailmgr's set_defaults, in 32-bit arithmetic,
        // saturating): a colon record never expires while the setting stays.
        if (defaults.expiry != vmailmgr::kUnlimited) {
            const auto now = static_cast<uint32_t>(time(nullptr));
            const uint32_t at = now + defaults.expiry;
            defaults.expiry = at < now ? vmailmgr::kUnlimited : at;
        }
    }
    std::string error;
    auto rec = vmailmgr::decode_record(hit.value, defaults, &error);
    if (!rec)
        return Outcome::fail(Verdict::StoreFault, path + ", user " + out->virtual_name + ": " + error);
    out->record = std::move(*rec);
    if (out->record.has_mailbox) {
        if (!vmailmgr::resolve_directory(out->base.home, out->record.directory, &out->mailbox, &error))
            return Outcome::fail(Verdict::StoreFault, path + ", user " + out->virtual_name + ": " + error);
        // Old colon records hold absolute directories: inside the base home, or a home_roots.
        if (auto why = home_refusal(out->mailbox, out->base.home, settings_.access.home_roots))
            return Outcome::fail(Verdict::StoreFault, path + ", user " + out->virtual_name + ": " + *why);
    }
    return Outcome::ok();
}

Outcome VmailmgrStore::check_login_allowed(const VmailmgrAccount &a, time_t now) const
{
    if (!a.record.has_mailbox)
        return Outcome::fail(Verdict::Disabled,
                             a.record.directory.empty() ? "the entry has no mailbox directory (forwarding only)"
                                                        : "the entry is an alias (has_mailbox = 0)");
    if (a.record.expiry != vmailmgr::kUnlimited && static_cast<time_t>(a.record.expiry) < now)
        return Outcome::fail(Verdict::Disabled,
                             "the account expired (expiry " + std::to_string(a.record.expiry) + ")");
    if (settings_.refuse_disabled_mailbox && !a.record.mailbox_enabled)
        return Outcome::fail(Verdict::Disabled, "the mailbox is disabled (refuse_disabled_mailbox=yes)");
    return Outcome::ok();
}

bool VmailmgrStore::resolves_to(const std::string &login, const BaseUser &base, const std::string &key,
                                std::string *why)
{
    VmailmgrAccount a;
    Outcome o = lookup(login, "", &a);
    // lookup() fills in the base and virtual user as soon as it has resolved them, before it
    // reads the record: a fault in the record itself still names this account (and doveadm
    // reports that fault for it), while an unknown user or a refused base user does not.
    if (a.base.name == base.name && a.virtual_name == key && o.verdict != Verdict::UserUnknown)
        return true;
    if (a.base.name.empty() || a.virtual_name.empty())
        *why = "'" + login + "' resolves to no virtual user: " + o.reason;
    else if (a.base.name != base.name || a.virtual_name != key)
        *why = "'" + login + "' resolves to base user " + a.base.name + ", virtual user " + a.virtual_name;
    else
        *why = "'" + login + "': " + o.reason;
    return false;
}

std::optional<std::string> VmailmgrStore::name_for(const BaseUser &base, const std::string &key,
                                                   const std::vector<ListDomain> &domains, const std::string &local,
                                                   std::string *why)
{
    const std::string &seps = globals_.separators;
    auto with_domain = [&](const std::string &name, const std::string &domain) {
        return seps.empty() ? name : name + seps[0] + domain;
    };
    // checkvpw turns name@domain into prefix-name and finds the base user in that: a domain
    // can reach this account only if base-key starts with its prefix and a '-'.
    const std::string full = base.name + "-" + key;
    why->clear();
    for (const ListDomain &d : domains) {
        if (full.size() <= d.prefix.size() + 1 || full.compare(0, d.prefix.size(), d.prefix) != 0 ||
            full[d.prefix.size()] != '-')
            continue;
        const std::string login = with_domain(full.substr(d.prefix.size() + 1), d.domain);
        std::string miss;
        if (resolves_to(login, base, key, &miss))
            return login;
        *why += (why->empty() ? "" : "; ") + miss;
    }
    // A local domain leaves the name as it is: base-key@localhost is base's key, unless a
    // longer base user takes it (vm-info-desk is vm-info's desk, not vm's info-desk).
    if (!local.empty()) {
        const std::string login = with_domain(full, local);
        std::string miss;
        if (resolves_to(login, base, key, &miss))
            return login;
        *why += (why->empty() ? "" : "; ") + miss;
    }
    if (why->empty())
        *why = "no domain in control/virtualdomains leads to it and control/locals names no domain";
    return std::nullopt;
}

bool VmailmgrStore::list_base(const BaseUser &base, const std::vector<ListDomain> &domains, const std::string &local,
                              std::vector<std::string> *users, std::vector<VmailmgrUnlisted> *skipped,
                              std::string *error)
{
    std::string path;
    Outcome po = store_path(base, &path, nullptr);
    if (!po.is_ok()) {
        *error = po.reason;
        return false;
    }
    const FsOwner owner = base_owner(base);
    CdbCache::Result c = cdbs_.get(path, &owner);
    if (c.file == nullptr) {
        if (c.missing)
            return true;
        *error = "cannot open " + path + ": " + c.error;
        return false;
    }
    std::shared_ptr<CdbFile> file = c.file;  // lookup() below may refresh the cache
    unsigned cpos = 0;
    std::string key, value;
    std::set<std::string> seen;
    int r;
    while ((r = file->next(&cpos, &key, &value, error, vmailmgr::kMaxRecordBytes)) > 0) {
        std::string err;
        auto rec = vmailmgr::decode_record(value, vmailmgr::Limits(), &err);
        if (!rec || !rec->has_mailbox || key.empty() || !seen.insert(key).second)
            continue;
        std::string why;
        if (auto name = name_for(base, key, domains, local, &why))
            users->push_back(std::move(*name));
        else if (skipped != nullptr)
            skipped->push_back({base.name, key, why});
    }
    return r == 0;
}

std::vector<std::string> VmailmgrStore::list_users(std::string *error, std::vector<VmailmgrUnlisted> *skipped)
{
    std::vector<std::string> users;
    watcher_.poll();
    etc_watcher_.poll();
    Outcome o = refresh_globals();
    if (!o.is_ok()) {
        *error = o.reason;
        return users;
    }
    if (control_.vd_text == nullptr)
        return users;
    // The domains a name can be listed under, in file order: exact keys (not ".suffix"
    // entries), each with the prefix its last line gives, left out if empty or if control/locals
    // takes the domain first. Copied: lookup() may re-read the control files meanwhile.
    std::vector<ListDomain> domains;
    std::set<std::string> seen;
    for (const auto &line : vmailmgr::virtualdomains_lines(*control_.vd_text)) {
        const std::string &domain = line.first;
        if (domain[0] == '.' || !seen.insert(domain).second || control_.locals.count(domain) != 0)
            continue;
        const std::string &prefix = control_.virtualdomains.at(domain);
        if (!prefix.empty())
            domains.push_back({domain, prefix});
    }
    std::string local;
    if (control_.locals_text != nullptr)
        for (const std::string &l : vmailmgr::parse_locals(*control_.locals_text))
            if (local.empty() && !l.empty())
                local = l;
    // Each store once, for the base user a prefix leads to (checkvpw's right-to-left search
    // on the prefix alone: "exorg-org" is base user exorg's "org-" names).
    std::set<std::string> bases_done;
    for (const ListDomain &d : domains) {
        const auto base = prefix_base_user(d.prefix);
        if (!base || base_refusal(*base) || !bases_done.insert(base->name).second)
            continue;
        if (!list_base(*base, domains, local, &users, skipped, error))
            return users;
    }
    return users;
}

Outcome VmailmgrStore::resolved_qmail_dir(std::string *dir) { return qmail_dir(dir, nullptr); }

Outcome VmailmgrStore::open_base_store(const BaseUser &base, std::shared_ptr<CdbFile> *file, std::string *path)
{
    if (auto why = base_refusal(base))
        return Outcome::fail(Verdict::UserUnknown, *why);
    const std::string *p = nullptr;
    Outcome o = base_store(base, file, &p);
    if (p != nullptr)
        *path = *p;
    return o;
}

std::vector<std::string> VmailmgrStore::startup_problems()
{
    std::vector<std::string> problems;
    struct stat st;
    if (::stat(settings_.config_dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        problems.push_back(settings_.config_dir + " is not a directory (config_dir=): vmailmgr's global settings "
                                                  "are expected there");
    std::string dir;
    Outcome o = qmail_dir(&dir, nullptr);
    if (!o.is_ok()) {
        problems.push_back(o.reason);
        return problems;
    }
    const std::string chosen =
        settings_.qmail_dir.empty() ? " (qmail_dir= unset: <config_dir>/qmail-root, else /var/qmail)" : " (qmail_dir=)";
    std::shared_ptr<const std::string> vd;
    bool missing = false;
    o = read_control("virtualdomains", &vd, &missing, nullptr);
    if (!o.is_ok()) {
        problems.push_back(o.reason);
        return problems;
    }
    if (missing || vd == nullptr) {
        problems.push_back(join_path(dir, "control/virtualdomains") + " does not exist" + chosen);
        return problems;
    }
    const auto domains = vmailmgr::parse_virtualdomains(*vd);
    if (domains.empty()) {
        problems.push_back(join_path(dir, "control/virtualdomains") + " names no domain" + chosen);
        return problems;
    }
    for (const auto &[domain, prefix] : domains) {
        auto base = prefix_base_user(prefix);
        if (!base || base_refusal(*base))
            continue;  // not a base user this driver reads (system account, none)
        std::shared_ptr<CdbFile> file;
        std::string path;
        o = open_base_store(*base, &file, &path);
        if (o.verdict == Verdict::StoreFault)
            problems.push_back("base user " + base->name + " (" + domain + "): " + o.reason);
        break;
    }
    return problems;
}

std::vector<BaseUser> VmailmgrStore::named_base_users(std::string *error)
{
    std::vector<BaseUser> out;
    std::shared_ptr<const std::string> vd;
    bool missing = false;
    Outcome o = read_control("virtualdomains", &vd, &missing, nullptr);
    if (!o.is_ok()) {
        *error = o.reason;
        return out;
    }
    std::set<std::string> seen;
    for (const auto &[domain, prefix] : vmailmgr::parse_virtualdomains(vd == nullptr ? "" : *vd)) {
        auto base = prefix_base_user(prefix);
        if (base && seen.insert(base->name).second)
            out.push_back(*base);
    }
    return out;
}

}  // namespace vstore
