#include "driver_args.h"

#include <sched.h>

#include <thread>

namespace vstore {

std::string DriverArgs::get(const std::string &key, const std::string &fallback) const
{
    auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
}

DriverArgs parse_driver_args(std::string_view args, const std::set<std::string> &known)
{
    DriverArgs out;
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
            out.error = "invalid argument '" + std::string(word) + "' (expected key=value)";
            return out;
        }
        std::string key(word.substr(0, eq));
        if (known.count(key) == 0) {
            out.error = "unknown argument '" + key + "'";
            return out;
        }
        if (out.values.count(key) != 0) {
            out.error = "argument '" + key + "' given twice";
            return out;
        }
        out.values[key] = std::string(word.substr(eq + 1));
    }
    return out;
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

unsigned default_verify_threads()
{
    // The CPUs this process may run on (taskset, a cgroup cpuset), not every CPU of the host.
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return static_cast<unsigned>(CPU_COUNT(&set));
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
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
    if (!digits || n > 256) {
        *error = key + " must be 'auto' or a number from 0 to 256, not '" + value + "'";
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

}  // namespace vstore
