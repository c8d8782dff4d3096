#include "file_util.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>


namespace vstore {

UniqueFd &UniqueFd::operator=(UniqueFd &&o) noexcept
{
    if (this != &o) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

UniqueFd::~UniqueFd()
{
    if (fd_ >= 0)
        ::close(fd_);
}

int UniqueFd::release()
{
    int fd = fd_;
    fd_ = -1;
    return fd;
}

FileStamp FileStamp::of(const struct stat &st)
{
    FileStamp s;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec;
    return s;
}

bool FileStamp::operator==(const FileStamp &o) const
{
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
}

bool FileStamp::recently_changed() const
{
    struct timespec now;
    if (::clock_gettime(CLOCK_REALTIME, &now) < 0)
        return true;
    const long long now_ns = static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec;
    const bool whole_seconds = ctime_ns % 1000000000LL == 0;
    return now_ns - ctime_ns < (whole_seconds ? kCoarseTickNs : kFineTickNs);
}

std::string errno_message(const char *call, const std::string &path, int err)
{
    return std::string(call) + "(" + path + ") failed: " + std::strerror(err);
}

const char *file_kind(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
    }
    return "of an unknown type";
}

bool pread_full(int fd, void *buf, size_t len, off_t pos, const std::string &path, std::string *error)
{
    auto *p = static_cast<char *>(buf);
    size_t done = 0;
    while (done < len) {
        ssize_t n = ::pread(fd, p + done, len - done, pos + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *error = errno_message("read", path, errno);
            return false;
        }
        if (n == 0) {
            *error = path + " is shorter than when it was opened (rewritten in place?)";
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

namespace {

// A name no other writer picks: host, pid and 64 random bits.
std::string temp_name(const char *name)
{
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
        std::snprintf(host, sizeof(host), "localhost");
    for (char *p = host; *p != '\0'; p++)
        if (*p == '/' || *p == '.' || static_cast<unsigned char>(*p) < 0x20)
            *p = '_';
    uint64_t rnd = 0;
    if (::getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(rnd)))
        rnd = static_cast<uint64_t>(::time(nullptr)) ^ (reinterpret_cast<uintptr_t>(&rnd) << 16);
    char out[400];
    std::snprintf(out, sizeof(out), "%s.tmp.%s.%ld.%016llx", name, host, static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(rnd));
    return out;
}

}  // namespace

bool replace_file_in_dir(const std::string &dir, const char *name, const std::string &content, std::string *error)
{
    UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dirfd) {
        const int err = errno;
        struct stat lst;
        if ((err == ELOOP || err == ENOTDIR) && ::lstat(dir.c_str(), &lst) == 0 && !S_ISDIR(lst.st_mode))
            *error = dir + " is " + file_kind(lst.st_mode) + ", not the user's directory";
        else
            *error = errno_message("open", dir, err);
        return false;
    }
    const std::string tmp = temp_name(name);
    UniqueFd fd(::openat(dirfd.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                         0600));
    if (!fd) {
        *error = errno_message("open", join_path(dir, tmp), errno);
        return false;
    }
    std::string failure;
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        failure = errno_message("write", join_path(dir, tmp), errno);
    else if (::close(fd.release()) < 0)
        failure = errno_message("close", join_path(dir, tmp), errno);
    else if (::renameat(dirfd.get(), tmp.c_str(), dirfd.get(), name) < 0)
        failure = errno_message("rename", join_path(dir, name), errno);
    if (!failure.empty()) {
        ::unlinkat(dirfd.get(), tmp.c_str(), 0);
        *error = failure;
        return false;
    }
    return true;
}

std::string join_path(std::string_view dir, std::string_view name)
{
    std::string p(dir);
    if (p.empty() || p.back() != '/')
        p += '/';
    p += name;
    return p;
}

std::string_view first_line(std::string_view text)
{
    size_t nl = text.find('\n');
    return nl == std::string_view::npos ? text : text.substr(0, nl);
}

std::string_view trim(std::string_view s)
{
    const char *ws = " \t\r\n";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos)
        return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::string ascii_lower(std::string_view s)
{
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace vstore
