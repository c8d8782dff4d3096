// Driver `args`: space-separated key=value words, as Dovecot hands them to a passdb/userdb.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace vstore {

struct DriverArgs {
    std::map<std::string, std::string> values;
    std::string error;  // set when the args are invalid; names the offending word or key

    bool ok() const { return error.empty(); }
    bool has(const std::string &key) const { return values.count(key) != 0; }
    std::string get(const std::string &key, const std::string &fallback = "") const;
};

// Splits args into key=value words; a key not in `known`, a word without `=`, or a key
// given twice is an error.
DriverArgs parse_driver_args(std::string_view args, const std::set<std::string> &known);

// "yes"/"no" (also true/false, 1/0). Returns false and sets error on anything else.
bool parse_yes_no(const std::string &key, const std::string &value, bool *out, std::string *error);

// verify_threads' default: one per core.
unsigned default_verify_threads();

// verify_threads: "auto" (the number of cores) or a count from 0 (off) to 256.
bool parse_thread_count(const std::string &key, const std::string &value, unsigned *out, std::string *error);

// Seconds: "90", "90s", "5m", "1h".
bool parse_seconds(const std::string &key, const std::string &value, unsigned *out, std::string *error);

}  // namespace vstore
