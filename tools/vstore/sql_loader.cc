// Loads vstore-mysql.so for backend=mysql: Dovecot's libraries first (they live in Dovecot's
// private library dir, which the helper does not name), then the helper, which resolves
// Dovecot's symbols against them as the auth module does in the auth process.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <string>

#include "sql_source.h"

namespace vstore_cli {

namespace {

int g_argc = 0;
char **g_argv = nullptr;

// The helper next to this vstore (a build tree), else the installed one.
std::string helper_path()
{
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        std::string dir(self, static_cast<size_t>(n));
        dir.resize(dir.rfind('/') + 1);
        const std::string local = dir + "vstore-mysql.so";
        if (access(local.c_str(), R_OK) == 0)
            return local;
    }
    return VSTORE_MYSQL_HELPER;
}

bool load(const std::string &path, int mode, void **handle, std::string *error)
{
    *handle = dlopen(path.c_str(), mode);
    if (*handle == nullptr) {
        const char *e = dlerror();
        *error = e != nullptr ? e : "cannot load " + path;
    }
    return *handle != nullptr;
}

}  // namespace

void set_process_args(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
}

std::unique_ptr<SqlSource> open_sql_source(const vstore::VpopmailSettings &s, std::string *error)
{
    // Loaded once, never unloaded: Dovecot's lib registers exit handlers.
    static void *open_fn = nullptr;
    if (open_fn == nullptr) {
        void *lib, *sql, *helper;
        const std::string libdir = VSTORE_DOVECOT_LIBDIR;
        if (!load(libdir + "/libdovecot.so.0", RTLD_NOW | RTLD_GLOBAL, &lib, error) ||
            !load(libdir + "/libdovecot-sql.so.0", RTLD_NOW | RTLD_GLOBAL, &sql, error) ||
            !load(helper_path(), RTLD_NOW | RTLD_LOCAL, &helper, error))
            return nullptr;
        open_fn = dlsym(helper, "vstore_mysql_open");
        if (open_fn == nullptr) {
            *error = helper_path() + " has no vstore_mysql_open";
            return nullptr;
        }
    }
    auto *open = reinterpret_cast<decltype(&vstore_mysql_open)>(open_fn);
    return std::unique_ptr<SqlSource>(open(&s, g_argc, g_argv, error));
}

}  // namespace vstore_cli
