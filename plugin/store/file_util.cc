#include "file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
    return s;
}

bool FileStamp::operator==(const FileStamp &o) const
{
    return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
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

UniqueFd open_regular_file(const std::string &path, struct stat *st, bool *missing, std::string *error)
{
    *missing = false;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        const int err = errno;
        *missing = err == ENOENT;
        if (err == ELOOP)
            *error = path + " is a symbolic link: store files are opened without following links";
        else
            *error = errno_message("open", path, err);
        return fd;
    }
    if (::fstat(fd.get(), st) < 0) {
        *error = errno_message("fstat", path, errno);
        return UniqueFd();
    }
    if (!S_ISREG(st->st_mode)) {
        *error = path + " is " + file_kind(st->st_mode) + ", not a regular file";
        return UniqueFd();
    }
    return fd;
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

ReadResult read_file(const std::string &path, size_t max_bytes)
{
    ReadResult r;
    struct stat st;
    bool missing = false;
    UniqueFd fd = open_regular_file(path, &st, &missing, &r.error);
    if (!fd) {
        r.status = missing ? ReadStatus::Missing : ReadStatus::Error;
        return r;
    }
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
        r.error = path + " is too large (" + std::to_string(st.st_size) + " bytes, limit " +
                  std::to_string(max_bytes) + ")";
        return r;
    }
    r.stamp = FileStamp::of(st);
    r.content.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < r.content.size()) {
        ssize_t n = ::read(fd.get(), &r.content[done], r.content.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r.error = errno_message("read", path, errno);
            r.content.clear();
            return r;
        }
        if (n == 0)
            break;  // shrank while we read: keep what is there
        done += static_cast<size_t>(n);
    }
    r.content.resize(done);
    r.status = ReadStatus::Ok;
    return r;
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
