#include "driver_args.h"

#include <sched.h>

#include <algorithm>
#include <string>
#include <thread>

namespace vstore {

bool split_args_words(std::string_view args, SettingWords *out, std::string *error)
{
    out->clear();
    size_t pos = 0;
    while (pos < args.size()) {
        while (pos < args.size() && (args[pos] == ' ' || args[pos] == '\t'))
            pos++;
        if (pos >= args.size())
            break;
        size_t end = args.find_first_of(" \t", pos);
        if (end == std::string_view::npos)
            end = args.size();
        std::string_view word = args.substr(pos, end - pos);
        pos = end;
        size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            *error = "invalid argument '" + std::string(word) + "' (expected key=value)";
            return false;
        }
        out->emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
    }
    return true;
}

bool parse_yes_no(const std::string &key, const std::string &value, bool *out, std::string *error)
{
    if (value == "yes" || value == "true" || value == "1") {
        *out = true;
        return true;
    }
    if (value == "no" || value == "false" || value == "0") {
        *out = false;
        return true;
    }
    *error = "argument '" + key + "' must be yes or no, not '" + value + "'";
    return false;
}

constexpr unsigned kMaxVerifyThreads = 256;

unsigned default_verify_threads()
{
    // The CPUs this process may run on (taskset, a cgroup cpuset), not every CPU of the host,
    // and no more than a number may ask for.
    cpu_set_t set;
    unsigned n = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        n = static_cast<unsigned>(CPU_COUNT(&set));
    else
        n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : std::min(n, kMaxVerifyThreads);
}

bool parse_thread_count(const std::string &key, const std::string &value, unsigned *out, std::string *error)
{
    if (value == "auto") {
        *out = default_verify_threads();
        return true;
    }
    unsigned n = 0;
    bool digits = !value.empty() && value.size() <= 3;
    for (char c : value) {
        digits = digits && c >= '0' && c <= '9';
        if (digits)
            n = n * 10 + static_cast<unsigned>(c - '0');
    }
    if (!digits || n > kMaxVerifyThreads) {
        *error = key + " must be 'auto' or a number from 0 to " + std::to_string(kMaxVerifyThreads) + ", not '" +
                 value + "'";
        return false;
    }
    *out = n;
    return true;
}

bool parse_seconds(const std::string &key, const std::string &value, unsigned *out, std::string *error)
{
    unsigned long long v = 0;
    size_t i = 0;
    for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; i++) {
        v = v * 10 + static_cast<unsigned>(value[i] - '0');
        if (v > 100000000ULL)
            break;
    }
    std::string unit = value.substr(i);
    unsigned long long mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
    if (i == 0 || mult == 0 || v * mult > 100000000ULL) {
        *error = "argument '" + key + "' must be a number of seconds (or with s, m, h), not '" + value + "'";
        return false;
    }
    *out = static_cast<unsigned>(v * mult);
    return true;
}

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

bool parse_absolute_path(const std::string &key, const std::string &value, bool allow_empty, std::string *out,
                         std::string *error)
{
    if (value.empty() ? !allow_empty : value[0] != '/') {
        *error = key + " must be an absolute path, not '" + value + "'";
        return false;
    }
    *out = value;
    return true;
}

}  // namespace vstore
