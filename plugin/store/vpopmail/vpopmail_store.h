// VpopmailStore: resolves a login to a vpopmail account the way vchkpw does, reading
// qmail's users/cdb and the domain's vpasswd.cdb (or text vpasswd). Knows nothing of Dovecot.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cdb_file.h"
#include "file_access.h"
#include "login.h"
#include "outcome.h"
#include "store_access.h"
#include "vpopmail_settings.h"
#include "text_cache.h"
#include "vpopmail_format.h"

namespace vstore {

struct VpopmailAccount {
    std::string user;          // lowercased user part
    std::string login_domain;  // as given (or the default domain), lowercased
    vpopmail::AssignRecord domain;  // real domain, its uid/gid and directory
    vpopmail::VpasswdRecord pw;
    uint32_t limits_mask = 0;
    uint32_t flags = 0;        // effective flags
    std::vector<std::string> notes;  // how the lookup went, for debug logs

    std::string canonical_name() const { return user + "@" + domain.real_domain; }
    std::string home() const { return pw.dir; }
};

class VpopmailStore {
public:
    // files: how its files are reached (file_access.h): the store broker in an auth process
    // that gave up root; by default this process's rights, as each file's owner when root.
    explicit VpopmailStore(VpopmailSettings settings, FileAccess &files = this_process_files());

    FileAccess &files() const { return files_; }

    const VpopmailSettings &settings() const { return settings_; }

    Outcome lookup(std::string_view login, VpopmailAccount *out);

    // The steps of lookup() for a record source other than the domain's vpasswd(.cdb), such as
    // the MySQL backend: the login resolved through users/cdb to a user of a real domain (as
    // vchkpw: a domain not in users/cdb is unknown) ...
    Outcome resolve(std::string_view login, VpopmailAccount *out);
    // ... then the record found for it, checked as a vpasswd record is (the home inside the
    // domain), with the domain's limits; `source` names where it came from, for messages.
    Outcome accept_record(VpopmailAccount *account, vpopmail::VpasswdRecord record, uint32_t limits_mask,
                          const std::string &source) const;
    // <vpopmail_dir>/etc/vlimits.default, the limits of a domain that has none of its own.
    Outcome default_limits(uint32_t *mask);
    // The limits files of a domain (.qmailadmin-limits, else vlimits.default), read as the domain.
    Outcome file_limits(const vpopmail::AssignRecord &domain, uint32_t *mask);
    // A file of vpopmail's (etc/vpopmail.mysql), read with the rights of vpopmail_dir's owner.
    Outcome read_vpopmail_file(const std::string &path, std::string *content);

    // vchkpw's verdict on a login (vpopmail_login.cc): the account (*account, for lastauth
    // and vstore), what the password must match, and the service check told after a match.
    LoginDecision decide(const LoginRequest &req, PasswordUse use, VpopmailAccount *account);
    // The same once the account was looked up by another source (`found`: its outcome).
    LoginDecision decide_found(const Outcome &found, const LoginRequest &req, PasswordUse use,
                               VpopmailAccount *account) const;

    // What the userdb answers for a login: uid/gid, home, maildir, quota.
    Outcome userdb(std::string_view login, UserdbView *view);
    static Outcome userdb_found(const Outcome &found, const VpopmailAccount &account, UserdbView *view);

    // Whether the account may use `service` from `remote_ip` (flags and domain limits).
    Outcome check_service(const VpopmailAccount &account, std::string_view service,
                          std::string_view remote_ip) const;

    // Whether this process wrote, found young or tried lastauth of this account less than
    // lastauth_interval before now: touch_lastauth() would do nothing (checked first, before
    // anything is formatted for it).
    bool lastauth_recent(const VpopmailAccount &account, time_t now) const;

    // vchkpw's vset_lastauth: <user dir>/lastauth holds the client's address and its mtime is
    // the login time (vdeloldusers and qmailadmin read it). Written with the domain's rights,
    // through a temporary file of a random name created in the opened user directory and
    // renamed over lastauth there. Returns ok with *written = false when the file is younger
    // than lastauth_interval; a failure is reported, never thrown.
    Outcome touch_lastauth(const VpopmailAccount &account, std::string_view remote_ip, time_t now,
                           bool *written) const;

    // Every user of every real domain as user@domain (alias domains are skipped: their
    // users are the real domain's). Not restartable; one iterator per listing.
    class Iterator {
    public:
        enum class Step { User, End, Fault };
        Step next(std::string *name, std::string *error);

    private:
        friend class VpopmailStore;
        explicit Iterator(VpopmailStore &store) : store_(store) {}
        bool open_domain(size_t index, std::string *error);

        VpopmailStore &store_;
        std::vector<vpopmail::AssignRecord> domains_;
        size_t domain_index_ = 0;
        bool started_ = false;
        std::shared_ptr<CdbFile> users_cdb_;
        unsigned cdb_pos_ = 0;
        std::shared_ptr<const std::string> users_text_;
        size_t text_pos_ = 0;
    };
    std::unique_ptr<Iterator> iterate() { return std::unique_ptr<Iterator>(new Iterator(*this)); }

    // What can be checked without a login, in the process that will read the store: one
    // sentence per problem, naming the path and the setting that chose it (vpopmail_dir,
    // qmail_dir, default_domain). user_files: also open a domain's vpasswd.cdb and limits (the
    // cdb backend); limit_files: only its limits files (MySQL without the limits table).
    std::vector<std::string> startup_problems(bool user_files, bool limit_files);

    // The real domains of users/cdb (alias domains left out), for a listing from elsewhere.
    bool real_domains(std::vector<std::string> *out, std::string *error);
    bool real_domains(std::vector<vpopmail::AssignRecord> *out, std::string *error);

private:
    Outcome resolve_default_domain(std::string *domain);
    struct DomainState {
        uint64_t epoch = 0;
        bool cacheable = false;
        vpopmail::AssignRecord record;
        std::string cdb_path, text_path;
        std::shared_ptr<CdbFile> users;  // vpasswd.cdb, or null: the text vpasswd (text_path)
        uint32_t limits_mask = 0;
        FileSources sources;  // what it was built from
    };
    Outcome domain_state(const std::string &domain, const DomainState **out);
    Outcome lookup_user(const DomainState &d, const std::string &user, VpopmailAccount *out);
    Outcome parse_login_domain(std::string_view login, VpopmailAccount *out);
    Outcome open_assign(CdbCache::Result *c);
    static void note_alias(VpopmailAccount *out);
    bool real_domains(const CdbFile &assign, std::vector<vpopmail::AssignRecord> *out, std::string *error) const;
    Outcome read_limits(const std::string &domain_dir, const FsOwner *reader, uint32_t *mask, bool *watched,
                        FileSources *sources);
    Outcome assign_record(const CdbFile &assign, const std::string &domain, vpopmail::AssignRecord *out) const;
    std::string assign_path() const;


    VpopmailSettings settings_;
    FileAccess &files_;
    ChangeWatcher watcher_;
    CdbCache cdbs_;
    TextFileCache settings_texts_;  // limits, defaultdomain, vpopmail.mysql (small files)
    TextFileCache vpasswd_texts_;   // text vpasswd files of domains without vpasswd.cdb
    const std::string assign_path_;
    // Whose rights ~vpopmail/etc is read with: the owner of vpopmail_dir when that is not
    // root (found at start); unset: the process's own.
    std::optional<FsOwner> etc_owner_;
    // When this process last found lastauth young or tried to write it, by user directory:
    // a login within lastauth_interval of that needs no lstat(), which for a store read
    // through the broker or as the domain would cost more than the login (and a directory
    // the write fails in is logged once an interval, not at every login).
    mutable std::unordered_map<std::string, time_t> lastauth_young_;
    std::unordered_map<std::string, DomainState> domains_;
};

}  // namespace vstore
