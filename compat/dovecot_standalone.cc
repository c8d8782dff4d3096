#include "dovecot_standalone.h"

#include "dovecot_sql.h"
#include "dovecot_version.h"

extern "C" {
#include "lib.h"
#include "ioloop.h"
#include "master-service.h"
#include "module-dir.h"
#include "sql-api.h"
}

namespace compat {

namespace {

struct ioloop *ioloop_ = nullptr;
struct module *modules_ = nullptr;
struct event *event_ = nullptr;

void load_mysql_driver()
{
    struct module_dir_load_settings mod_set;
    i_zero(&mod_set);
    mod_set.abi_version = DOVECOT_ABI_VERSION;
    mod_set.require_init_funcs = TRUE;
    mod_set.ignore_missing = TRUE;  // SqlDb says "is dovecot-mysql installed?"
#ifdef VSTORE_DOVECOT_24
    const char *const names[] = {"driver_mysql", nullptr};
#else
    const char *names = "driver_mysql";
#endif
    modules_ = module_dir_load_missing(modules_, VSTORE_DOVECOT_MODULE_DIR, names, &mod_set);
    module_dir_init(modules_);
}

}  // namespace

struct event *sql_parent_event() { return event_; }

void sql_load_mysql_driver() { load_mysql_driver(); }

void Standalone::init(int argc, char **argv)
{
    // No Dovecot config is read (nothing here needs it), no stats, no SSL: lib-sql gets its
    // settings from SqlDb in code.
    const auto flags = static_cast<enum master_service_flags>(
        MASTER_SERVICE_FLAG_STANDALONE | MASTER_SERVICE_FLAG_NO_CONFIG_SETTINGS | MASTER_SERVICE_FLAG_DONT_SEND_STATS |
        MASTER_SERVICE_FLAG_NO_SSL_INIT | MASTER_SERVICE_FLAG_NO_INIT_DATASTACK_FRAME);
    master_service = master_service_init("vstore", flags, &argc, &argv, "");
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
