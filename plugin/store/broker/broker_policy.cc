#include "broker_policy.h"

#include <limits.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <set>

#include "vmailmgr_paths.h"

namespace vstore {
namespace broker_policy {

namespace {

// The components of an absolute path that path_refusal() passed.
std::vector<std::string_view> components(std::string_view path)
{
    std::vector<std::string_view> out;
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string_view::npos)
            end = path.size();
        out.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// The components of `path` below `root` (both checked by path_refusal(), or root a store's
// directory), or nullopt when path is not below root. Empty when path is root.
std::optional<std::vector<std::string_view>> below(std::string_view root, std::string_view path)
{
    const std::vector<std::string_view> r = components(root), p = components(path);
    if (p.size() < r.size())
        return std::nullopt;
    for (size_t i = 0; i < r.size(); i++)
        if (r[i] != p[i])
            return std::nullopt;
    return std::vector<std::string_view>(p.begin() + static_cast<std::ptrdiff_t>(r.size()), p.end());
}

bool same(const std::optional<std::vector<std::string_view>> &rel, std::initializer_list<std::string_view> want)
{
    if (!rel || rel->size() != want.size())
        return false;
    size_t i = 0;
    for (std::string_view w : want)
        if ((*rel)[i++] != w)
            return false;
    return true;
}

std::string parent_of(std::string_view path)
{
    const size_t slash = path.rfind('/');
    return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names)
{
    for (std::string_view n : names)
        if (name == n)
            return true;
    return false;
}

// A directory name that is mail, or holds it: Maildir, its new/cur/tmp, and any
// dot-directory (Maildir++ folders, and whatever else a user hides).
bool mail_dir_name(std::string_view name)
{
    return name.empty() || name.front() == '.' || one_of(name, {"Maildir", "new", "cur", "tmp"});
}

// vpopmail's bigdir.c: a hash directory is one character of dirlist.
bool vpopmail_hash_dir(std::string_view name)
{
    if (name.size() != 1)
        return false;
    const char c = name.front();
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

constexpr size_t kVpopmailHashLevels = 3;  // vpopmail.h: MAX_DIR_LEVELS
constexpr size_t kMaxHomeRootsDepth = 5;   // a domain directory, the hash levels, the user

Decision allowed() { return {Decision::Rule::Allowed, "", ""}; }
Decision refused(std::string reason) { return {Decision::Rule::Refused, std::move(reason), ""}; }
Decision outside() { return refused(""); }

Decision lastauth_decision(const BrokerArea &a, Access access, std::string_view path)
{
    // Lastauth names the user directory; Lstat names <user dir>/lastauth.
    std::optional<std::vector<std::string_view>> rel = below(a.root, path);
    if (!rel)
        return outside();
    if (access == Access::Lstat) {
        if (rel->empty() || rel->back() != "lastauth")
            return refused(std::string(path) + " is not lastauth in a user directory");
        rel->pop_back();
    }
    if (auto why = lastauth_dir_refusal(a.kind, *rel))
        return refused("no lastauth in " + (access == Access::Lstat ? parent_of(path) : std::string(path)) + ": " +
                       *why);
    return allowed();
}

Decision vpopmail_domain(const BrokerArea &a, Access access, std::string_view path)
{
    const auto rel = below(a.root, path);
    const bool file_access = access == Access::Open || access == Access::Lstat;
    if (file_access && rel && rel->size() == 1 && one_of(rel->front(), {"vpasswd.cdb", "vpasswd", ".qmailadmin-limits"}))
        return allowed();
    if (access == Access::Lastauth || (access == Access::Lstat && rel && !rel->empty() && rel->back() == "lastauth"))
        return lastauth_decision(a, access, path);
    if ((access == Access::Statfs || access == Access::Watch) && (path == a.root || path == parent_of(a.root)))
        return allowed();
    return rel ? refused(std::string(path) + " is not a file of the domain's store") : outside();
}

Decision vpopmail_etc(const BrokerArea &a, Access access, std::string_view path)
{
    const auto rel = below(a.root, path);
    const bool file_access = access == Access::Open || access == Access::Lstat;
    if (file_access && (same(rel, {"etc", "defaultdomain"}) || same(rel, {"etc", "vlimits.default"})))
        return allowed();
    if ((access == Access::Statfs || access == Access::Watch) && (same(rel, {"etc"}) || same(rel, {})))
        return allowed();
    return outside();  // a domain below vpopmail_dir says why, if any
}

Decision vpopmail_homes(const BrokerArea &a, Access access, std::string_view path)
{
    if (access == Access::Lastauth || access == Access::Lstat)
        return lastauth_decision(a, access, path);
    return outside();
}

Decision vmailmgr_home(const BrokerArea &a, Access access, std::string_view path)
{
    namespace vp = vmailmgr_paths;
    const auto rel = below(a.root, path);
    if (!rel)
        return outside();
    const bool file_access = access == Access::Open || access == Access::Lstat;
    const bool dir_access = access == Access::Statfs || access == Access::Watch;
    if (access == Access::Lstat && rel->empty())
        return allowed();
    if (dir_access && (rel->empty() || same(rel, {vp::kSettingsDir})))
        return allowed();
    if (file_access && rel->size() == 2 && (*rel)[0] == vp::kSettingsDir) {
        if (vp::is_base_setting((*rel)[1]))
            return allowed();
        return refused(std::string(path) + " is not a setting the vmailmgr driver reads");
    }
    if (file_access && rel->size() == 1) {
        const std::string_view name = rel->front();
        const size_t suffix = vp::kStoreSuffix.size();
        if (name.size() > suffix && name.substr(name.size() - suffix) == vp::kStoreSuffix &&
            vp::password_file_name_allowed(name.substr(0, name.size() - suffix)))
            return {Decision::Rule::IfPasswordFile, "", std::string(name.substr(0, name.size() - suffix))};
    }
    return refused(std::string(path) + " is not the base user's store or a setting the driver reads");
}

}  // namespace

std::optional<std::string> path_refusal(std::string_view path)
{
    const std::string shown(path.substr(0, 256));
    if (path.size() < 2 || path.size() >= PATH_MAX || path.front() != '/' || path.back() == '/' ||
        path.find('\0') != std::string_view::npos)
        return "the path " + shown + " is not absolute, or too long";
    for (std::string_view c : components(path))
        if (c.empty() || c == "." || c == "..")
            return "the path " + shown + " has an empty, . or .. part";
    return std::nullopt;
}

std::optional<std::string> lastauth_dir_refusal(BrokerArea::Kind kind, const std::vector<std::string_view> &below)
{
    if (below.empty())
        return std::string("not a user directory (the area's own directory)");
    for (std::string_view c : below)
        if (mail_dir_name(c))
            return "'" + std::string(c) + "' is a mail or dot directory, not a user directory";
    if (kind == BrokerArea::Kind::VpopmailDomain) {
        if (below.size() > kVpopmailHashLevels + 1)
            return "deeper than vpopmail's user directories (" + std::to_string(kVpopmailHashLevels) +
                   " hash levels, then the user)";
        for (size_t i = 0; i + 1 < below.size(); i++)
            if (!vpopmail_hash_dir(below[i]))
                return "'" + std::string(below[i]) + "' is not one of vpopmail's hash directories";
        return std::nullopt;
    }
    if (kind == BrokerArea::Kind::VpopmailHomes) {
        if (below.size() > kMaxHomeRootsDepth)
            return "more than " + std::to_string(kMaxHomeRootsDepth) + " directories below the home_roots directory";
        return std::nullopt;
    }
    return std::string("not a vpopmail area");
}

Decision decide(const BrokerArea &area, Access access, std::string_view path)
{
    switch (area.kind) {
    case BrokerArea::Kind::VpopmailDomain: return vpopmail_domain(area, access, path);
    case BrokerArea::Kind::VpopmailEtc: return vpopmail_etc(area, access, path);
    case BrokerArea::Kind::VpopmailHomes: return vpopmail_homes(area, access, path);
    case BrokerArea::Kind::VmailmgrHome: return vmailmgr_home(area, access, path);
    }
    return outside();
}

bool password_file_matches(std::string_view store_name, const std::optional<std::string_view> &owner_text,
                           const std::optional<std::string_view> &global_text)
{
    // vmailmgr's lookup order: ~/.vmailmgr first, then the global directory, then the default
    for (const auto &text : {owner_text, global_text}) {
        if (!text)
            continue;
        const std::string_view value = vmailmgr_paths::setting_text(*text);
        if (!value.empty())
            return value == store_name;
    }
    return store_name == vmailmgr_paths::kDefaultPasswordFile;
}

// ---- root's files ----

namespace {

uint32_t u32le(std::string_view bytes, size_t pos)
{
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data() + pos);
    return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// A decimal id as qmail-newu writes it: digits only, no sign, fits in 32 bits.
bool decimal_id(std::string_view s, uint32_t *out)
{
    if (s.empty() || s.size() > 10)
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = static_cast<uint32_t>(v);
    return true;
}

// The value of "!<domain>-": realdomain, uid, gid, dir, NUL-separated (more fields follow).
std::optional<AssignedDomain> assigned_domain(std::string_view key, std::string_view value)
{
    if (key.size() < 3 || key.front() != '!' || key.back() != '-')
        return std::nullopt;
    std::string_view fields[4];
    size_t pos = 0;
    for (std::string_view &f : fields) {
        if (pos > value.size())
            return std::nullopt;
        const size_t nul = std::min(value.find('\0', pos), value.size());
        f = value.substr(pos, nul - pos);
        pos = nul + 1;
    }
    AssignedDomain d;
    uint32_t uid = 0, gid = 0;
    if (fields[0] != key.substr(1, key.size() - 2) || !decimal_id(fields[1], &uid) || !decimal_id(fields[2], &gid) ||
        fields[3].empty() || fields[3].front() != '/')
        return std::nullopt;  // an alias domain, a qmail user, or not vpopmail's
    d.domain = std::string(fields[0]);
    d.uid = uid;
    d.gid = gid;
    d.dir = std::string(fields[3]);
    return d;
}

}  // namespace

bool assigned_domains(std::string_view cdb, std::vector<AssignedDomain> *out, std::string *error)
{
    constexpr size_t kHeader = 2048;
    if (cdb.size() < kHeader) {
        *error = "shorter than a cdb header";
        return false;
    }
    // cdbmake writes the records, then the hash tables, the first of them where the
    // records end (tinycdb's cdb_init() takes the same bound)
    const size_t end = std::min<size_t>(u32le(cdb, 0), cdb.size());
    size_t pos = kHeader;
    while (pos + 8 <= end) {
        const size_t klen = u32le(cdb, pos), dlen = u32le(cdb, pos + 4);
        if (klen > end - pos - 8 || dlen > end - pos - 8 - klen) {
            *error = "a record runs past the records' end";
            return false;
        }
        if (auto d = assigned_domain(cdb.substr(pos + 8, klen), cdb.substr(pos + 8 + klen, dlen)))
            out->push_back(std::move(*d));
        pos += 8 + klen + dlen;
    }
    return true;
}

std::vector<BrokerArea> vpopmail_areas(const std::vector<AssignedDomain> &domains, const std::string &vpopmail_dir,
                                       const std::optional<FsOwner> &vpopmail_dir_owner,
                                       const std::vector<std::string> &home_roots)
{
    using Kind = BrokerArea::Kind;
    std::vector<BrokerArea> out;
    if (vpopmail_dir_owner)
        out.push_back({*vpopmail_dir_owner, Kind::VpopmailEtc, vpopmail_dir, ""});
    const std::string domains_dir = vpopmail_dir + "/domains";
    std::set<std::pair<uid_t, gid_t>> owners;  // etc/ and home_roots once per owner
    for (const AssignedDomain &d : domains) {
        auto rel = below(domains_dir, d.dir);
        if (path_refusal(d.dir) || !rel || rel->empty() || d.uid == 0 || d.gid == 0)
            continue;
        const FsOwner owner{d.uid, d.gid, "domain " + d.domain};
        out.push_back({owner, Kind::VpopmailDomain, d.dir, ""});
        if (!owners.insert({d.uid, d.gid}).second)
            continue;
        out.push_back({owner, Kind::VpopmailEtc, vpopmail_dir, ""});
        for (const std::string &root : home_roots)
            out.push_back({owner, Kind::VpopmailHomes, root, ""});
    }
    return out;
}

std::vector<std::string> virtualdomains_prefixes(std::string_view text)
{
    std::map<std::string, std::string> by_domain;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        while (!line.empty() && vmailmgr_paths::is_config_space(line.back()))
            line.remove_suffix(1);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            continue;
        std::string key(line.substr(0, colon));
        if (key.find('@') != std::string::npos)
            continue;
        for (char &c : key)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        by_domain[key] = std::string(line.substr(colon + 1));
    }
    std::set<std::string> seen;
    std::vector<std::string> out;
    for (const auto &[domain, base] : by_domain)
        if (!base.empty() && seen.insert(base).second)
            out.push_back(base);
    return out;
}

}  // namespace broker_policy
}  // namespace vstore
