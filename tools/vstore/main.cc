#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "cli.h"
#include "sql_source.h"

namespace {

// One subcommand: its name, its usage (what `vstore NAME --help` prints) and the line
// `vstore --help` gives it.
struct Command {
    const char *name;
    const char *usage;
};

const Command kCommands[] = {
    {"lookup",
     "usage: vstore lookup vpopmail|vmailmgr [DRIVER ARGS...] LOGIN [--service S] [--rip IP]\n"
     "                     [--local-name NAME] [--password-stdin]\n"
     "Prints every resolution step and the verdict, with the reason the driver logs;\n"
     "exit 0 ok, 1 refused, 2 user unknown, 75 temporary failure (store fault).\n"
     "--password-stdin reads the password (one line) from stdin and checks it; lookup never\n"
     "writes lastauth.\n"},
    {"check",
     "usage: vstore check vpopmail|vmailmgr [DRIVER ARGS...]\n"
     "Scans every domain and user like fsck; exit 1 when something would make a login fail.\n"},
    {"export",
     "usage: vstore export vpopmail|vmailmgr [DRIVER ARGS...] --format passwd-file|sql\n"
     "Prints every user as Dovecot passwd-file lines or SQL.\n"},
    {"settings",
     "usage: vstore settings vpopmail|vmailmgr\n"
     "Lists the driver's settings: 2.3 arg, 2.4 setting, default, meaning.\n"},
    {"config-check",
     "usage: vstore config-check [DOVECOT.CONF]\n"
     "Checks Dovecot's configuration (doveconf -n, of DOVECOT.CONF when given) against the\n"
     "drivers and their stores. The stores are read in a child that becomes the user of the\n"
     "process that will read them, under that process's vsz_limit. Run it as root.\n"
     "One line per problem; exit 0 none, 1 problems, 75 when the configuration cannot be read.\n"},
};

const char kUsageTail[] =
    "\n"
    "DRIVER ARGS are the key=value words of the passdb/userdb args in the Dovecot config.\n"
    "With backend=mysql (vpopmail) lookup, check and export read vpopmail's database as the driver\n"
    "does, through Dovecot's own SQL layer (Debian: dovecot-mariadb, formerly dovecot-mysql).\n"
    "vstore COMMAND --help shows a command's usage. See vstore(1).\n";

void print_usage(FILE *to)
{
    fputs("usage: vstore COMMAND ...\ncommands:\n", to);
    for (const Command &c : kCommands) {
        // the first line of each usage, without its "usage: " prefix
        const char *first = c.usage + strlen("usage: ");
        fprintf(to, "  %.*s\n", static_cast<int>(strcspn(first, "\n")), first);
    }
    fputs(kUsageTail, to);
}

const Command *find_command(const char *name)
{
    for (const Command &c : kCommands)
        if (strcmp(c.name, name) == 0)
            return &c;
    return nullptr;
}

bool is_help(const char *word) { return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0; }

// Whether a command's words ask for its usage: --help or -h anywhere but as an option's value.
bool asks_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        const bool takes_value = i > 2 && (strcmp(argv[i - 1], "--service") == 0 ||
                                           strcmp(argv[i - 1], "--rip") == 0 ||
                                           strcmp(argv[i - 1], "--local-name") == 0 ||
                                           strcmp(argv[i - 1], "--format") == 0);
        if (is_help(argv[i]) && !takes_value)
            return true;
    }
    return false;
}

int run_config_check(int argc, char **argv)
{
    vstore_cli::Options o;
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-') {
            fprintf(stderr, "vstore config-check: unknown option %s\n%s", argv[i], find_command("config-check")->usage);
            return vstore_cli::kUsage;
        }
        o.words.push_back(argv[i]);
    }
    try {
        return vstore_cli::cmd_config_check(o);
    } catch (const std::exception &e) {
        fprintf(stderr, "vstore: %s\n", e.what());
        return vstore_cli::kTempFail;
    }
}

}  // namespace

int main(int argc, char **argv)
{
    vstore_cli::set_process_args(argc, argv);
    if (argc < 2) {
        print_usage(stderr);
        return vstore_cli::kUsage;
    }
    if (is_help(argv[1])) {
        print_usage(stdout);
        return 0;
    }
    const Command *command = find_command(argv[1]);
    if (command == nullptr) {
        fprintf(stderr, "vstore: unknown command '%s'\n", argv[1]);
        print_usage(stderr);
        return vstore_cli::kUsage;
    }
    if (asks_help(argc, argv)) {
        fputs(command->usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "config-check") == 0)
        return run_config_check(argc, argv);
    if (argc < 3) {
        fputs(command->usage, stderr);
        return vstore_cli::kUsage;
    }
    vstore_cli::Options o;
    const std::string cmd = argv[1];
    o.store = argv[2];
    if (o.store != "vpopmail" && o.store != "vmailmgr") {
        fprintf(stderr, "vstore: unknown store '%s' (vpopmail or vmailmgr)\n", o.store.c_str());
        return vstore_cli::kUsage;
    }
    for (int i = 3; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char *name) -> std::string {
            if (i + 1 >= argc) {
                fprintf(stderr, "vstore: %s needs a value\n", name);
                exit(vstore_cli::kUsage);
            }
            return argv[++i];
        };
        if (a == "--service")
            o.service = value("--service");
        else if (a == "--rip")
            o.rip = value("--rip");
        else if (a == "--local-name")
            o.local_name = value("--local-name");
        else if (a == "--format")
            o.format = value("--format");
        else if (a == "--password-stdin")
            o.password_stdin = true;
        else if (a.rfind("--", 0) == 0) {
            fprintf(stderr, "vstore: unknown option %s\n", a.c_str());
            return vstore_cli::kUsage;
        } else if (a.find('=') != std::string::npos && o.words.empty())
            o.driver_args.emplace_back(a.substr(0, a.find('=')), a.substr(a.find('=') + 1));
        else
            o.words.push_back(a);
    }
    try {
        if (cmd == "lookup")
            return vstore_cli::cmd_lookup(o);
        if (cmd == "check")
            return vstore_cli::cmd_check(o);
        if (cmd == "export")
            return vstore_cli::cmd_export(o);
        return vstore_cli::cmd_settings(o);
    } catch (const std::exception &e) {
        fprintf(stderr, "vstore: %s\n", e.what());
        return vstore_cli::kTempFail;
    }
}
