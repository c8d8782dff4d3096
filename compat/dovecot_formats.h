/* Dovecot's own value syntaxes that the drivers write: the 2.3 `mail` location and
   `quota_rule`. Plain C++, no Dovecot header: dovecot23.h renders userdb replies with them,
   and `vstore export` writes them into passwd-file lines and SQL rows. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace compat {

/* "maildir:<path>" with every ':' doubled, which Dovecot 2.3's location parser reads as a
   literal colon (vmailmgr's users/Bob:Smith). */
inline std::string maildir_location(std::string_view path)
{
    std::string loc = "maildir:";
    for (char c : path) {
        loc += c;
        if (c == ':')
            loc += ':';
    }
    return loc;
}

/* The quota plugin's quota_rule for the default root, e.g. "*:storage=5242880B:messages=1000";
   empty when neither limit is set. */
inline std::string quota_rule(std::optional<uint64_t> bytes, std::optional<uint64_t> messages)
{
    if (!bytes && !messages)
        return "";
    std::string rule = "*";
    if (bytes)
        rule += ":storage=" + std::to_string(*bytes) + "B";
    if (messages)
        rule += ":messages=" + std::to_string(*messages);
    return rule;
}

}  // namespace compat
