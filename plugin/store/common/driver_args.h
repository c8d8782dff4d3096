// Driver settings as words: the 2.3 `args` line split into key=value pairs, and the parsers
// of the value kinds the settings tables use (yes/no, counts, durations).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vstore {

// Settings as (name, value) pairs, in the order given.
using SettingWords = std::vector<std::pair<std::string, std::string>>;

// Splits a 2.3 `args` line into key=value words (separated by spaces or tabs); a word
// without `=` or with an empty key is an error naming it.
bool split_args_words(std::string_view args, SettingWords *out, std::string *error);

// "yes"/"no" (also true/false, 1/0). Returns false and sets error on anything else.
bool parse_yes_no(const std::string &key, const std::string &value, bool *out, std::string *error);

// verify_threads' default: one per core.
unsigned default_verify_threads();

// verify_threads: "auto" (the number of cores) or a count from 0 (off) to 256.
bool parse_thread_count(const std::string &key, const std::string &value, unsigned *out, std::string *error);

// Seconds: "90", "90s", "5m", "1h".
bool parse_seconds(const std::string &key, const std::string &value, unsigned *out, std::string *error);

// A whole number from 1 to max.
bool parse_count(const std::string &key, const std::string &value, uint64_t max, uint64_t *out,
                 std::string *error);

// An absolute path, or empty when allow_empty.
bool parse_absolute_path(const std::string &key, const std::string &value, bool allow_empty, std::string *out,
                         std::string *error);

}  // namespace vstore
