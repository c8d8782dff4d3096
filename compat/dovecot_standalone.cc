#include "dovecot_standalone.h"

#include "dovecot_sql.h"
#include "dovecot_version.h"

extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "master-service.h"
#include "module-dir.h"
#include "sql-api.h"
#ifdef VSTORE_DOVECOT_24
#include "settings.h"
#endif
}

namespace compat {

namespace {

// Read no Dovecot config: MASTER_SERVICE_FLAG_NO_CONFIG_SETTINGS until 2.4.1. 2.4.2 calls it
// CONFIG_BUILTIN (another value) and gives the old value to CONFIG_DEFAULTS, which runs doveconf.
#if VSTORE_DOVECOT_AT_LEAST(2, 4, 2)
constexpr auto kNoConfig = MASTER_SERVICE_FLAG_CONFIG_BUILTIN;
#else
constexpr auto kNoConfig = MASTER_SERVICE_FLAG_NO_CONFIG_SETTINGS;
#endif

struct ioloop *ioloop_ = nullptr;
struct module *modules_ = nullptr;
struct event *event_ = nullptr;

void load_mysql_driver()
{
    struct module_dir_load_settings mod_set;
    i_zero(&mod_set);
    mod_set.abi_version = DOVECOT_ABI_VERSION;
    mod_set.require_init_funcs = TRUE;
    mod_set.ignore_missing = TRUE;  // SqlDb asks whether the mysql driver is installed
#ifdef VSTORE_DOVECOT_24
    const char *const names[] = {"driver_mysql", nullptr};
#else
    const char *names = "driver_mysql";
#endif
    modules_ = module_dir_load_missing(modules_, VSTORE_DOVECOT_MODULE_DIR, names, &mod_set);
    module_dir_init(modules_);
#ifdef VSTORE_DOVECOT_24
    // SqlDb gives the driver's settings (mysql { }, mysql_host, ...) as overrides. With no
    // config read, Dovecot knows a setting only from the settings infos registered in this
    // process, and since 2.4.2 it refuses an override of a setting it does not know ("Unknown
    // setting 'mysql'") before the driver has registered its info by reading its settings.
    struct module *driver = modules_ == nullptr ? nullptr : module_dir_find(modules_, "driver_mysql");
    if (driver != nullptr) {
        auto *info = static_cast<const struct setting_parser_info *>(
            module_get_symbol_quiet(driver, "mysql_setting_parser_info"));
        if (info != nullptr)
            settings_info_register(info);
    }
#endif
}

}  // namespace

struct event *sql_parent_event() { return event_; }

void sql_load_mysql_driver() { load_mysql_driver(); }

void Standalone::init(int, char **argv)
{
    // No Dovecot config is read (nothing here needs it), no stats, no SSL: lib-sql gets its
    // settings from SqlDb in code.
    const auto flags = static_cast<enum master_service_flags>(
        MASTER_SERVICE_FLAG_STANDALONE | kNoConfig | MASTER_SERVICE_FLAG_DONT_SEND_STATS |
        MASTER_SERVICE_FLAG_NO_SSL_INIT | MASTER_SERVICE_FLAG_NO_INIT_DATASTACK_FRAME);
    // vstore's arguments are vstore's: Dovecot's option parser sees the program name only (argv
    // whole goes to its process title code, as for any Dovecot program), and finds no option.
    // It must have run before the log is set up (2.4.2 and later assert that).
    int service_argc = 1;
    master_service = master_service_init("vstore", flags, &service_argc, &argv, "");
    (void)master_getopt(master_service);
    master_service_init_log_with_prefix(master_service, "vstore: ");
    ioloop_ = io_loop_create();
    event_ = event_create(nullptr);
    sql_drivers_init();
#ifndef VSTORE_DOVECOT_24
    sql_drivers_register_all();
#endif
    load_mysql_driver();
}

void Standalone::deinit()
{
    if (modules_ != nullptr) {
        module_dir_deinit(modules_);
        module_dir_unload(&modules_);
    }
    sql_drivers_deinit();
    event_unref(&event_);
    io_loop_destroy(&ioloop_);
    master_service_deinit(&master_service);
}

void Standalone::run(const std::function<void(std::function<void()> stop)> &start)
{
    bool stopped = false;
    T_BEGIN {
        start([&stopped] {
            stopped = true;
            io_loop_stop(ioloop_);
        });
        while (!stopped)
            io_loop_run(ioloop_);
    }
    T_END;
}

}  // namespace compat
