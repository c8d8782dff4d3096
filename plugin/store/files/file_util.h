// Small RAII helpers for files: an owned fd, and whole-file reads that say why they failed.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vstore {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept;
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd();

    int get() const { return fd_; }
    int release();
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// Identity of a file's current version: a rename() over it or an in-place rewrite changes it.
// The ctime is what makes it complete: a writer can keep the size and set the mtime back
// (utime()), but every write, chmod or utime() sets the ctime to the current time and nothing
// sets it back.
struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    long long mtime_ns = 0;
    long long ctime_ns = 0;

    static FileStamp of(const struct stat &st);
    bool operator==(const FileStamp &o) const;
    bool operator!=(const FileStamp &o) const { return !(*this == o); }

    // Whether a change could still leave this stamp as it is: file times tick coarsely (a
    // jiffy, up to 10 ms, where they keep nanoseconds; a second where they do not), so a
    // rewrite in the same tick as the change that gave this ctime keeps it. A version read
    // while its ctime is within a tick of now (or in the future) is not trusted by its stamp
    // alone: it is read again.
    bool recently_changed() const;
    static constexpr long long kFineTickNs = 50000000LL;      // nanosecond times: 50 ms
    static constexpr long long kCoarseTickNs = 2000000000LL;  // whole seconds (ctime .000000000)
};

enum class ReadStatus { Ok, Missing, Error };

struct ReadResult {
    ReadStatus status = ReadStatus::Error;
    std::string content;
    std::string error;  // "open(path): reason" etc., set unless Ok
    FileStamp stamp;
};

// "a FIFO", "a directory", ... for a file's st_mode.
const char *file_kind(mode_t mode);

// pread() until len bytes are read; false on an error or a short read (the file shrank),
// with *error set.
bool pread_full(int fd, void *buf, size_t len, off_t pos, const std::string &path, std::string *error);

// Replaces dir/name with content, as the thread's file system identity: dir opened with
// O_NOFOLLOW (a link is refused), a temporary file named by host, pid and 64 random bits
// created O_CREAT|O_EXCL|O_NOFOLLOW mode 0600, renamed over name in that directory, removed
// on every failure. false with *error.
bool replace_file_in_dir(const std::string &dir, const char *name, const std::string &content, std::string *error);

// "syscall(path) failed: strerror"
std::string errno_message(const char *call, const std::string &path, int err);

std::string join_path(std::string_view dir, std::string_view name);

// The first line of text, without its "\n" (vpopmail strips only that).
std::string_view first_line(std::string_view text);

// Strips spaces, tabs, CR and LF at both ends.
std::string_view trim(std::string_view s);

// Lowercases ASCII letters only, as both stores' tools do (bytes >= 0x80 stay as they are).
std::string ascii_lower(std::string_view s);

}  // namespace vstore
