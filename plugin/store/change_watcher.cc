#include "change_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

namespace vstore {

namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |
                                IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

std::string parent_dir(const std::string &path)
{
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

ChangeWatcher::ChangeWatcher() : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

uint64_t ChangeWatcher::poll()
{
    if (!fd_)
        return ++epoch_;  // no inotify: every lookup revalidates
    alignas(struct inotify_event) char buf[16384];
    bool changed = false;
    for (;;) {
        ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
        if (n <= 0)
            break;
        changed = true;
        for (ssize_t off = 0; off < n;) {
            const auto *ev = reinterpret_cast<const struct inotify_event *>(buf + off);
            if ((ev->mask & (IN_IGNORED | IN_MOVE_SELF | IN_DELETE_SELF)) != 0) {
                // The directory went away or moved (its watch would follow it to its new
                // name): forget it, so the next use watches whatever has that name then.
                auto it = dirs_by_wd_.find(ev->wd);
                if (it != dirs_by_wd_.end()) {
                    if ((ev->mask & IN_IGNORED) == 0)
                        inotify_rm_watch(fd_.get(), ev->wd);
                    watched_.erase(it->second);
                    dirs_by_wd_.erase(it);
                }
            }
            off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
        }
        if (static_cast<size_t>(n) < sizeof(buf) - sizeof(struct inotify_event) - 256)
            break;
    }
    if (changed)
        epoch_++;
    return epoch_;
}

bool ChangeWatcher::watch_dir(const std::string &dir)
{
    if (watched_.count(dir) != 0)
        return true;
    int wd = inotify_add_watch(fd_.get(), dir.c_str(), kDirEvents);
    if (wd < 0)
        return false;
    // A moved directory keeps its wd under a new name; one wd may then serve two names.
    dirs_by_wd_[wd] = dir;
    watched_.insert(dir);
    return true;
}

bool ChangeWatcher::watch_parent_of(const std::string &path)
{
    if (!fd_)
        return false;
    const std::string dir = parent_dir(path);
    if (watch_dir(dir))
        return true;
    if (errno != ENOENT && errno != ENOTDIR)
        return false;
    return dir != "/" && watch_dir(parent_dir(dir));
}

}  // namespace vstore
