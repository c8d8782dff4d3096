// vstore: the operator's view of the stores, on the drivers' own store code.
#pragma once

#include <string>
#include <vector>

namespace vstore_cli {

// Exit codes of `vstore lookup`, as a checkpassword-style verdict.
enum Exit { kOk = 0, kRefused = 1, kUnknown = 2, kUsage = 64, kTempFail = 75 };

struct Options {
    std::string store;               // vpopmail | vmailmgr
    std::string driver_args;         // key=value words, as in the Dovecot config
    std::vector<std::string> words;  // other positional words
    std::string service = "imap", rip, local_name, format;
    bool password_stdin = false;
};

int cmd_lookup(const Options &o);
int cmd_check(const Options &o);
int cmd_export(const Options &o);

}  // namespace vstore_cli
