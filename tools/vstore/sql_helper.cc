// vstore-mysql.so: the vpopmail driver's MySQL record source (glue::VpopmailSource, on
// compat::SqlDb over Dovecot's lib-sql and its mysql driver module) in vstore's process.
// vstore loads it for backend=mysql only (sql_loader.cc).
#include <stdexcept>

#include "dovecot_standalone.h"
#include "sql_source.h"
#include "vpopmail_source.h"
#include "vpopmail_sql.h"

namespace vstore_cli {

namespace {

class HelperSource : public SqlSource {
public:
    explicit HelperSource(const vstore::VpopmailSettings &s) : source_(s, vstore::this_process_files()) {}
    ~HelperSource() override = default;

    vstore::Outcome find(const std::string &login, vstore::VpopmailAccount *account) override
    {
        vstore::Outcome found;
        compat::Standalone::run([&](std::function<void()> stop) {
            source_.find(login, account, [&, stop](const vstore::Outcome &o, vstore::VpopmailAccount &) {
                found = o;
                stop();
            });
        });
        return found;
    }

    vstore::Outcome list(std::vector<std::string> *users) override
    {
        vstore::Outcome listed;
        compat::Standalone::run([&](std::function<void()> stop) {
            source_.list([&, stop](const vstore::Outcome &o, std::vector<std::string> names) {
                listed = o;
                *users = std::move(names);
                stop();
            });
        });
        return listed;
    }

    std::vector<std::string> startup_problems() override { return source_.startup_problems(); }

    std::string where(const std::string &real_domain) const override
    {
        return source_.settings().many_domains ? "table vpopmail"
                                               : "table " + vstore::vpopmail_sql::munch_domain(real_domain);
    }

private:
    glue::VpopmailSource source_;
};

// Dovecot's lib lives as long as the source: deinit when the last one goes.
class Owned : public SqlSource {
public:
    explicit Owned(std::unique_ptr<SqlSource> s) : s_(std::move(s)) {}
    ~Owned() override
    {
        s_.reset();
        compat::Standalone::deinit();
    }
    vstore::Outcome find(const std::string &login, vstore::VpopmailAccount *a) override { return s_->find(login, a); }
    vstore::Outcome list(std::vector<std::string> *users) override { return s_->list(users); }
    std::vector<std::string> startup_problems() override { return s_->startup_problems(); }
    std::string where(const std::string &d) const override { return s_->where(d); }

private:
    std::unique_ptr<SqlSource> s_;
};

}  // namespace

}  // namespace vstore_cli

extern "C" __attribute__((visibility("default"))) vstore_cli::SqlSource *
vstore_mysql_open(const vstore::VpopmailSettings *s, int argc, char **argv, std::string *error)
{
    compat::Standalone::init(argc, argv);
    try {
        return new vstore_cli::Owned(std::make_unique<vstore_cli::HelperSource>(*s));
    } catch (const std::exception &e) {
        *error = e.what();
    }
    compat::Standalone::deinit();
    return nullptr;
}
