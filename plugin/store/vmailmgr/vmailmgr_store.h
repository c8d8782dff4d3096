// VmailmgrStore: resolves a login to a vmailmgr virtual user as checkvpw does:
// domain -> control/virtualdomains prefix -> base user (getpwnam, right to left) ->
// ~base/passwd.cdb. Knows nothing of Dovecot.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <map>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cdb_file.h"
#include "file_access.h"
#include "login.h"
#include "outcome.h"
#include "store_access.h"
#include "text_cache.h"
#include "vmailmgr_format.h"
#include "vmailmgr_settings.h"

namespace vstore {

struct VmailmgrAccount {
    BaseUser base;
    std::string virtual_name;  // key in passwd.cdb
    std::string login_name;    // the login's name part, lowercased (may carry a base prefix)
    std::string domain;        // the domain the login named (or the default/local one)
    char separator = '@';      // the first configured separator; 0 if there is none
    vmailmgr::Record record;
    std::string mailbox;       // absolute mailbox directory
    bool system_user = false;  // the login resolved to the base user itself
    std::vector<std::string> notes;

    // A name that resolves to this same account without a local name: the login with its
    // domain made explicit ("alice" on example.org -> "alice@example.org").
    std::string canonical_name() const
    {
        return separator == 0 ? login_name : login_name + separator + domain;
    }
};

// An account list_users() leaves out, and why.
struct VmailmgrUnlisted {
    std::string base_user, virtual_name, reason;
};

class VmailmgrStore {
public:
    // files: how its files are reached (file_access.h): the store broker in an auth process
    // that gave up root; by default this process's rights, as each file's owner when root.
    explicit VmailmgrStore(VmailmgrSettings settings, FileAccess &files = this_process_files());

    FileAccess &files() const { return files_; }
    const VmailmgrSettings &settings() const { return settings_; }

    // For vstore check, the paths the login path takes: qmail's directory (the setting,
    // <config_dir>/qmail-root, else /var/qmail), and a base user's store opened as a login
    // opens it (~/.vmailmgr/password-file honoured, read with the base user's rights).
    Outcome resolved_qmail_dir(std::string *dir);
    Outcome open_base_store(const BaseUser &base, std::shared_ptr<CdbFile> *file, std::string *path);

    // local_name: the connection's local host name (TCPLOCALHOST), used when the login has
    // no domain and no default_domain is configured.
    Outcome lookup(std::string_view login, std::string_view local_name, VmailmgrAccount *out);

    // checkvpw's verdict on a login (vmailmgr_login.cc): the account, its state checks and
    // what the password must match. Passwords are the same for every mechanism.
    LoginDecision decide(const LoginRequest &req, time_t now, VmailmgrAccount *account);

    // What the userdb answers for a login: the base user's uid/gid, the mailbox, quota.
    Outcome userdb(std::string_view login, std::string_view local_name, UserdbView *view);

    // What can be checked without a login, in the process that will read the store: one
    // sentence per problem, naming the path and the setting that chose it (config_dir,
    // qmail_dir). The first base user of control/virtualdomains stands for all.
    std::vector<std::string> startup_problems();

    // The base users control/virtualdomains lines lead to (vmailmgr_paths::find_base_user on
    // each prefix: those getpwnam knows), for vstore.
    std::vector<BaseUser> named_base_users(std::string *error);

    // Account states checkvpw refuses (alias, expired) and, if configured, a disabled mailbox.
    Outcome check_login_allowed(const VmailmgrAccount &account, time_t now) const;

    // Every user with a mailbox of the base user each control/virtualdomains prefix names (the
    // prefix, or its longest part before a '-' that is a user, as checkvpw searches), each
    // under a name that lookup(name, "") resolves to that same account: name@domain
    // for the first domain (in file order) whose prefix reaches it, else base-name@ the first
    // control/locals domain. An account no name reaches (checkvpw resolves base users right to
    // left, so vm's "info-desk" is always vm-info's "desk") is left out, and reported in
    // *skipped when given. *error: a store fault that ended the listing early.
    std::vector<std::string> list_users(std::string *error, std::vector<VmailmgrUnlisted> *skipped = nullptr);

private:
    // vmailmgr's settings files. *watched (when given) is cleared if a change of the files
    // read would go unnoticed; a file that exists but cannot be read is a store fault.
    // *sources (when given) gets each file read, with its stamp.
    // reader: whose rights the file is read with (null: the process's).
    Outcome setting_file(const std::string &path, const FsOwner *reader, bool *found, std::string *value,
                         bool *watched, FileSources *sources = nullptr);
    Outcome setting(const BaseUser &base, const std::string &name, const std::string &dflt, std::string *value,
                    bool *watched, FileSources *sources = nullptr);
    Outcome global_setting(const std::string &name, const std::string &dflt, std::string *value, bool *watched,
                           FileSources *sources = nullptr);
    Outcome qmail_dir(std::string *dir, bool *watched);
    Outcome read_control(const char *name, std::shared_ptr<const std::string> *out, bool *missing, bool *watched);
    Outcome refresh_globals();
    Outcome base_store(const BaseUser &base, std::shared_ptr<CdbFile> *file, const std::string **path);
    // ~base/.vmailmgr/password-file (default "passwd") + ".cdb", refused if it leaves the home.
    Outcome store_path(const BaseUser &base, std::string *path, bool *watched, FileSources *sources = nullptr);
    // Why a base user is not one whose store is read (below first_valid_uid, no home).
    std::optional<std::string> base_refusal(const BaseUser &base) const;
    // checkvpw's base user of "prefix-name" (vmailmgr_paths::find_base_user, getpwnam cached).
    Outcome resolve_base(const std::string &prefixed, VmailmgrAccount *out);
    // The base user a control/virtualdomains prefix leads to: the same search on the prefix
    // alone, as the broker makes it.
    std::optional<BaseUser> prefix_base_user(const std::string &prefix);
    // Whether a prefix of control/virtualdomains leads to this base user (prefix_base_user).
    bool named_in_virtualdomains(const BaseUser &base);
    // list_users(), one base user's store: appends the names found, or reports the accounts
    // left out. False on a store fault (*error set).
    struct ListDomain {
        std::string domain, prefix;
    };
    bool list_base(const BaseUser &base, const std::vector<ListDomain> &domains, const std::string &local,
                   std::vector<std::string> *users, std::vector<VmailmgrUnlisted> *skipped, std::string *error);
    // A name lookup() resolves to base's virtual user `key`, if there is one; else *why.
    std::optional<std::string> name_for(const BaseUser &base, const std::string &key,
                                        const std::vector<ListDomain> &domains, const std::string &local,
                                        std::string *why);
    // Whether lookup(login, "") reaches base's `key`; else *why says where it leads.
    bool resolves_to(const std::string &login, const BaseUser &base, const std::string &key, std::string *why);

    // control/locals and control/virtualdomains, parsed once per version of the files
    struct Control {
        std::shared_ptr<const std::string> locals_text, vd_text;
        std::unordered_set<std::string> locals;
        std::map<std::string, std::string> virtualdomains;
        std::set<std::string> prefixes;  // the non-empty values of virtualdomains, lowercased
    };
    // getpwnam() results, kept while /etc does not change (and at most a minute, for
    // NSS sources other than files)
    std::optional<BaseUser> base_user(const std::string &name);
    struct CachedUser {
        std::optional<BaseUser> user;
        uint64_t epoch;
        time_t when;
    };

    VmailmgrSettings settings_;
    FileAccess &files_;
    ChangeWatcher watcher_;
    CdbCache cdbs_;
    TextFileCache control_texts_;  // qmail's control files (root's)
    TextFileCache setting_texts_;  // vmailmgr's settings files (one line each)
    Control control_;
    struct Globals {
        uint64_t epoch = 0;
        bool cacheable = false;
        std::string separators;
    } globals_;
    struct BaseState {
        uint64_t epoch = 0;
        bool cacheable = false;
        std::string home, cdb_path;
        std::shared_ptr<CdbFile> file;
        FileSources sources;  // what it was built from
    };
    std::unordered_map<std::string, BaseState> bases_;
    std::unordered_map<std::string, CachedUser> users_;
    // /etc is a local file system even where the stores are shared: getpwnam() results stay
    // cached with shared_fs=yes too.
    ChangeWatcher etc_watcher_{SharedFs::Auto};
    bool etc_watched_ = false;
};

}  // namespace vstore
