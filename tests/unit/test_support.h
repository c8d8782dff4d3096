// Helpers for unit tests: a temporary directory that cleans up, and cdb/text file writers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "hash_cost.h"

namespace testsupport {

class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string operator/(const std::string &rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

using Records = std::vector<std::pair<std::string, std::string>>;

// Writes a cdb with tinycdb's writer (creates parent directories). New files and directories
// belong to the owner of the directory they are made in, as when a store's owner writes them.
void write_cdb(const std::string &path, const Records &records);
void write_file(const std::string &path, const std::string &content);
void make_dirs(const std::string &path);
// chown -R, for stores that must belong to their owner (a no-op unless root).
void chown_tree(const std::string &path, unsigned uid, unsigned gid);

// The hash cost limits a driver runs with when none is set (settings_list.h's defaults).
vstore::HashCostLimits default_hash_limits();

}  // namespace testsupport
