#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli.h"
#include "sql_source.h"

namespace {

const char kUsage[] =
    "usage: vstore lookup vpopmail|vmailmgr [DRIVER ARGS...] LOGIN [--service S] [--rip IP]\n"
    "                     [--local-name NAME] [--password-stdin]\n"
    "       vstore check  vpopmail|vmailmgr [DRIVER ARGS...]\n"
    "       vstore export vpopmail|vmailmgr [DRIVER ARGS...] --format passwd-file|sql\n"
    "       vstore settings vpopmail|vmailmgr\n"
    "       vstore config-check [DOVECOT.CONF]\n"
    "\n"
    "DRIVER ARGS are the key=value words of the passdb/userdb args in the Dovecot config.\n"
    "lookup prints every resolution step and the verdict, with the reason the driver logs;\n"
    "exit 0 ok, 1 refused, 2 user unknown, 75 temporary failure (store fault).\n"
    "check scans every domain and user like fsck; exit 1 when something would make a login fail.\n"
    "export prints every user as Dovecot passwd-file lines or SQL.\n"
    "With backend=mysql (vpopmail) lookup, check and export read vpopmail's database as the driver\n"
    "does, through Dovecot's own SQL layer (dovecot-mysql); lookup never writes lastauth.\n"
    "settings lists the driver's settings: 2.3 arg, 2.4 setting, default, meaning.\n"
    "config-check checks Dovecot's configuration (doveconf -n) against the drivers and the stores,\n"
    "as the processes that read them; exit 1 with one line per problem. See vstore(1).\n";

}  // namespace

int main(int argc, char **argv)
{
    vstore_cli::set_process_args(argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(kUsage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "config-check") == 0) {
        vstore_cli::Options o;
        for (int i = 2; i < argc; i++)
            o.words.push_back(argv[i]);
        try {
            return vstore_cli::cmd_config_check(o);
        } catch (const std::exception &e) {
            fprintf(stderr, "vstore: %s\n", e.what());
            return vstore_cli::kTempFail;
        }
    }
    if (argc < 3) {
        fputs(kUsage, stderr);
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
        if (cmd == "settings")
            return vstore_cli::cmd_settings(o);
    } catch (const std::exception &e) {
        fprintf(stderr, "vstore: %s\n", e.what());
        return vstore_cli::kTempFail;
    }
    fprintf(stderr, "vstore: unknown command '%s'\n%s", cmd.c_str(), kUsage);
    return vstore_cli::kUsage;
}
