// What the store broker (fs_broker.h) grants, as pure functions: which request on which path
// is one of a store's own file accesses, and whom the broker serves, from the bytes of root's
// files (qmail's users/cdb, control/virtualdomains). Nothing here reads a byte a store owner
// wrote, and nothing includes a store class, a record decoder or a verdict: this and
// vmailmgr_paths.h are the broker's whole knowledge of the stores (OpenSSH's monitor: the
// privileged side knows the shape of what it hands out, not its content).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs_owner.h"

namespace vstore {

// A store the broker serves, as the driver registers it at preinit: what the policy reads
// root's files from (users/cdb below qmail_dir, virtualdomains) to learn whom it serves.
struct BrokeredStore {
    enum class Kind { Vpopmail, Vmailmgr };
    Kind kind = Kind::Vpopmail;
    std::string qmail_dir;
    std::string dir;  // vpopmail_dir, or vmailmgr's config_dir
    std::vector<std::string> home_roots;  // home_roots=
    uid_t first_valid_uid = 500;          // vmailmgr: base users below it are not served
};

// A directory where the broker acts for an owner, and what it may do there
// (broker_policy::decide()):
//   VpopmailDomain  root = a domain directory: open/lstat vpasswd.cdb, vpasswd,
//                   .qmailadmin-limits; lstat and replace lastauth in a user directory
//                   (lastauth_dir_refusal())
//   VpopmailEtc     root = vpopmail_dir: open/lstat etc/defaultdomain, etc/vlimits.default
//   VpopmailHomes   root = a home_roots directory: lastauth in user directories below
//   VmailmgrHome    root = a base user's home: open/lstat <password-file>.cdb and the
//                   .vmailmgr/ settings the driver reads; lstat of the home
// and statfs/watch on the directories holding those files (and their parents).
struct BrokerArea {
    enum class Kind { VpopmailDomain, VpopmailEtc, VpopmailHomes, VmailmgrHome };
    FsOwner owner;
    Kind kind;
    std::string root;
    std::string config_dir;  // VmailmgrHome: vmailmgr's global configuration (password-file)
};

namespace broker_policy {

enum class Access { Lstat, Open, Statfs, Watch, Lastauth };

struct Decision {
    enum class Rule {
        Allowed,
        Refused,
        // a vmailmgr store file: allowed when it is the one password-file names
        // (password_file_matches()), which only the owner's and root's files can say
        IfPasswordFile,
    };
    Rule rule = Rule::Refused;
    std::string reason;      // Refused: why, when the path is in the area ("" when it is not)
    std::string store_name;  // IfPasswordFile: the name asked for, without ".cdb"
};

// A path the store itself would name: absolute, no empty, "." or ".." part, no NUL, at most
// PATH_MAX bytes. The reason, or nullopt.
std::optional<std::string> path_refusal(std::string_view path);

// Whether `access` on `path` (path_refusal() passed) is one of the store's own file accesses
// in this area.
Decision decide(const BrokerArea &area, Access access, std::string_view path);

// Where lastauth may be, as path components below the area's root: only in a user's own
// directory, never in a Maildir, its new/cur/tmp, or any dot-directory (a Maildir++ folder),
// so that nothing the broker writes is ever listed as mail.
//   VpopmailDomain: the user directories vpopmail makes (vpopmail's make_user_dir(): the
//     domain directory, then with --enable-users-big-dir up to MAX_DIR_LEVELS (3) hash
//     directories of one character of bigdir.c's dirlist [0-9A-Za-z], then the user name):
//     <domain>/[h/[h/[h/]]]<user>.
//   VpopmailHomes: homes a record may name below a home_roots directory: the same shape
//     with a directory of any name in place of the hash directories and one more for a
//     domain, at most 5 deep.
// The reason, or nullopt. The broker parses no store byte to decide this: the rule is the
// shape of the path.
std::optional<std::string> lastauth_dir_refusal(BrokerArea::Kind kind, const std::vector<std::string_view> &below);

// Whether a password-file setting's text names `store_name`: the owner's ~/.vmailmgr/
// password-file when it is set, else root's <config_dir>/password-file when set, else
// vmailmgr's default. `owner_text`/`global_text`: the files' first bytes (nullopt: no such
// file). A comparison, not a parse: the broker keeps nothing of what it reads.
bool password_file_matches(std::string_view store_name, const std::optional<std::string_view> &owner_text,
                           const std::optional<std::string_view> &global_text);

// ---- whom the broker serves, from root's files ----

// A vpopmail domain of users/cdb: an entry "!<domain>-" whose value's first field is that
// domain (an alias domain names another), then uid, gid and directory, NUL-separated.
struct AssignedDomain {
    std::string domain;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string dir;
};

// The domains of a users/cdb file's bytes (records walked in order, bounded by the file);
// false with *error when the file is not a cdb.
bool assigned_domains(std::string_view cdb, std::vector<AssignedDomain> *out, std::string *error);

// The areas of a vpopmail store: each domain whose directory is below <vpopmail_dir>/domains
// (users/cdb also maps qmail users to homes that are not the store's), neither uid nor gid
// 0; for each such owner etc/ and the home_roots; etc/ also for vpopmail_dir's owner.
std::vector<BrokerArea> vpopmail_areas(const std::vector<AssignedDomain> &domains, const std::string &vpopmail_dir,
                                       const std::optional<FsOwner> &vpopmail_dir_owner,
                                       const std::vector<std::string> &home_roots);

// The prefixes of control/virtualdomains ("domain:prefix" lines; a later line for a domain
// replaces an earlier one; user@domain keys are qmail's), each once. The base user a prefix
// leads to is vmailmgr_paths::find_base_user()'s, as for the store.
std::vector<std::string> virtualdomains_prefixes(std::string_view text);

}  // namespace broker_policy
}  // namespace vstore
