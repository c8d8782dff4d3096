#include "store_access.h"

#include <limits>

namespace vstore {

namespace {

bool parse_count(const std::string &key, const std::string &value, uint64_t max, uint64_t *out,
                 std::string *error)
{
    uint64_t v = 0;
    bool ok = !value.empty() && value.size() <= 18;
    for (char c : value)
        ok = ok && c >= '0' && c <= '9';
    if (ok) {
        for (char c : value)
            v = v * 10 + static_cast<uint64_t>(c - '0');
        ok = v >= 1 && v <= max;
    }
    if (!ok) {
        *error = key + " must be a whole number from 1 to " + std::to_string(max) + ", not '" + value + "'";
        return false;
    }
    *out = v;
    return true;
}

bool has_dot_component(std::string_view p)
{
    size_t pos = 0;
    while (pos <= p.size()) {
        size_t slash = p.find('/', pos);
        std::string_view part = p.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        if (part == "." || part == "..")
            return true;
        if (slash == std::string_view::npos)
            break;
        pos = slash + 1;
    }
    return false;
}

std::string_view without_trailing_slashes(std::string_view p)
{
    while (p.size() > 1 && p.back() == '/')
        p.remove_suffix(1);
    return p;
}

}  // namespace

const std::set<std::string> &StoreAccessSettings::keys()
{
    static const std::set<std::string> k{"shared_fs", "home_roots", "max_crypt_rounds", "max_bcrypt_cost",
                                         "max_yescrypt_mib"};
    return k;
}

bool StoreAccessSettings::parse(const DriverArgs &a, StoreAccessSettings *out, std::string *error)
{
    StoreAccessSettings s;
    const std::string shared = a.get("shared_fs", "auto");
    if (shared == "auto")
        s.shared_fs = SharedFs::Auto;
    else if (shared == "yes")
        s.shared_fs = SharedFs::Yes;
    else if (shared == "no")
        s.shared_fs = SharedFs::No;
    else {
        *error = "shared_fs must be 'auto', 'yes' or 'no', not '" + shared + "'";
        return false;
    }
    const std::string roots = a.get("home_roots");
    size_t pos = 0;
    while (pos < roots.size()) {
        size_t comma = roots.find(',', pos);
        std::string one = roots.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? roots.size() : comma + 1;
        if (one.empty())
            continue;
        if (one[0] != '/' || has_dot_component(one) || one == "/") {
            *error = "home_roots: '" + one + "' must be an absolute directory other than /, without . or ..";
            return false;
        }
        s.home_roots.emplace_back(without_trailing_slashes(one));
    }
    HashCostLimits &l = s.hash_limits;
    uint64_t v = 0;
    if (a.has("max_crypt_rounds")) {
        if (!parse_count("max_crypt_rounds", a.get("max_crypt_rounds"), 999999999, &v, error))
            return false;
        l.max_crypt_rounds = v;
    }
    if (a.has("max_bcrypt_cost")) {
        if (!parse_count("max_bcrypt_cost", a.get("max_bcrypt_cost"), 31, &v, error))
            return false;
        l.max_bcrypt_cost = static_cast<unsigned>(v);
    }
    if (a.has("max_yescrypt_mib")) {
        if (!parse_count("max_yescrypt_mib", a.get("max_yescrypt_mib"), 1 << 20, &v, error))
            return false;
        l.max_yescrypt_mib = v;
    }
    *out = std::move(s);
    return true;
}

bool path_is_below(std::string_view path, std::string_view root)
{
    if (path.empty() || root.empty() || path[0] != '/' || root[0] != '/' || has_dot_component(path) ||
        has_dot_component(root))
        return false;
    root = without_trailing_slashes(root);
    path = without_trailing_slashes(path);
    if (root == "/")
        return true;
    if (path.substr(0, root.size()) != root)
        return false;
    return path.size() == root.size() || path[root.size()] == '/';
}

std::optional<std::string> home_refusal(std::string_view home, std::string_view owner_root,
                                        const std::vector<std::string> &extra_roots)
{
    if (home.empty() || home[0] != '/')
        return "the home '" + std::string(home) + "' is not an absolute path";
    for (char c : home)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "the home '" + std::string(home) + "' contains a control character";
    if (has_dot_component(home))
        return "the home '" + std::string(home) + "' contains . or .. components";
    if (path_is_below(home, owner_root))
        return std::nullopt;
    for (const std::string &root : extra_roots)
        if (path_is_below(home, root))
            return std::nullopt;
    std::string why = "the home '" + std::string(home) + "' is outside " + std::string(owner_root);
    if (extra_roots.empty())
        why += " (home_roots= lists other places homes may be)";
    else
        why += " and every home_roots directory";
    return why;
}

}  // namespace vstore
