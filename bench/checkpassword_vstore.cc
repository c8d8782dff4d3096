// A minimal checkpassword program reading the same stores through the same store code: what
// a site would run under Dovecot's checkpassword passdb (one fork + exec per login), the
// design the drivers replace. fd 3: "login\0password\0...". On success it execs argv[1]
// (Dovecot's checkpassword-reply) with USER set; exit 1 = refused, 111 = temporary failure.
//   checkpassword_vstore vpopmail|vmailmgr ARGS... -- REPLY_PROGRAM
// In Dovecot: args = /path/checkpassword_vstore vpopmail vpopmail_dir=... --
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "password_check.h"
#include "vmailmgr_store.h"
#include "vpopmail_store.h"

int main(int argc, char **argv)
{
    int sep = 1;
    while (sep < argc && strcmp(argv[sep], "--") != 0)
        sep++;
    if (argc < 3 || sep + 1 >= argc)
        return 2;
    char buf[1024];
    ssize_t n, len = 0;
    while (len < static_cast<ssize_t>(sizeof(buf)) && (n = read(3, buf + len, sizeof(buf) - len)) > 0)
        len += n;
    std::string in(buf, len > 0 ? len : 0);
    size_t a = in.find('\0');
    if (a == std::string::npos)
        return 2;
    size_t b = in.find('\0', a + 1);
    const std::string login = in.substr(0, a), password = in.substr(a + 1, b == std::string::npos ? b : b - a - 1);
    vstore::SettingWords words;
    for (int i = 2; i < sep; i++) {
        const std::string w = argv[i];
        words.emplace_back(w.substr(0, w.find('=')), w.find('=') == std::string::npos ? "" : w.substr(w.find('=') + 1));
    }
    // The same decision the drivers take, then the password as Dovecot would check it.
    const vstore::LoginRequest req{login, "imap", "", ""};
    vstore::LoginDecision d;
    std::string error;
    if (strcmp(argv[1], "vpopmail") == 0) {
        vstore::VpopmailSettings s;
        if (!vstore::VpopmailSettings::parse(words, vstore::SettingNames::Args, &s, &error))
            return 111;
        vstore::VpopmailStore store(s);
        vstore::VpopmailAccount acc;
        d = store.decide(req, vstore::PasswordUse::Plain, &acc);
    } else {
        vstore::VmailmgrSettings s;
        if (!vstore::VmailmgrSettings::parse(words, vstore::SettingNames::Args, &s, &error))
            return 111;
        vstore::VmailmgrStore store(s);
        vstore::VmailmgrAccount acc;
        d = store.decide(req, time(nullptr), &acc);
    }
    if (d.before.verdict == vstore::Verdict::StoreFault)
        return 111;
    if (!d.before.is_ok() || vstore::empty_password_refusal(password) ||
        vstore::verify_password(d.password.scheme, d.password.hash, password) != vstore::PasswordMatch::Match ||
        !d.after_match.is_ok())
        return 1;
    setenv("USER", login.c_str(), 1);
    execv(argv[sep + 1], argv + sep + 1);
    return 111;
}
