#include "store_access.h"

#include <limits>

namespace vstore {

namespace {

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

bool parse_shared_fs(const std::string &key, const std::string &value, SharedFs *out, std::string *error)
{
    if (value == "auto")
        *out = SharedFs::Auto;
    else if (value == "yes")
        *out = SharedFs::Yes;
    else if (value == "no")
        *out = SharedFs::No;
    else {
        *error = key + " must be 'auto', 'yes' or 'no', not '" + value + "'";
        return false;
    }
    return true;
}

bool parse_home_roots(const std::string &key, const std::string &value, std::vector<std::string> *out,
                      std::string *error)
{
    out->clear();
    size_t pos = 0;
    while (pos < value.size()) {
        size_t comma = value.find(',', pos);
        std::string one = value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? value.size() : comma + 1;
        if (one.empty())
            continue;
        if (one[0] != '/' || has_dot_component(one) || one == "/") {
            *error = key + ": '" + one + "' must be an absolute directory other than /, without . or ..";
            return false;
        }
        out->emplace_back(without_trailing_slashes(one));
    }
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
