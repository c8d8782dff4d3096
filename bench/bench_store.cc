#include "bench_store.h"

#include <cdb.h>
#include <crypt.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace bench {

namespace fs = std::filesystem;

Scheme parse_scheme(const std::string &s)
{
    if (s == "md5")
        return Scheme::Md5;
    if (s == "sha512")
        return Scheme::Sha512;
    if (s == "des")
        return Scheme::Des;
    throw std::runtime_error("unknown scheme " + s + " (md5, sha512, des)");
}

const char *scheme_name(Scheme s)
{
    return s == Scheme::Md5 ? "md5" : s == Scheme::Sha512 ? "sha512" : "des";
}

std::string user_name(size_t i)
{
    char b[32];
    snprintf(b, sizeof(b), "u%07zu", i);
    return b;
}

std::string domain_name(size_t d)
{
    char b[32];
    snprintf(b, sizeof(b), "d%04zu.bench", d);
    return b;
}

std::string vmailmgr_base(size_t d)
{
    char b[32];
    snprintf(b, sizeof(b), "vb%04zu", d);
    return b;
}

std::string password(size_t i) { return "Pw-" + std::to_string(i) + "-bench"; }

size_t domain_of(const StoreSpec &s, size_t i) { return i % s.domains; }

std::string login(const StoreSpec &s, size_t i) { return user_name(i) + "@" + domain_name(domain_of(s, i)); }

std::string crypt_password(const std::string &pw, Scheme scheme, unsigned seed)
{
    static const char salt_chars[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string salt;
    for (int k = 0; k < 8; k++) {
        salt += salt_chars[seed % 64];
        seed = seed * 1103515245u + 12345u;
    }
    std::string setting = scheme == Scheme::Md5 ? "$1$" + salt : scheme == Scheme::Sha512 ? "$6$" + salt : salt.substr(0, 2);
    struct crypt_data data = {};
    const char *h = crypt_r(pw.c_str(), setting.c_str(), &data);
    if (h == nullptr || h[0] == '*')
        throw std::runtime_error("crypt_r failed");
    return h;
}

namespace {

class CdbWriter {
public:
    explicit CdbWriter(const std::string &path) : path_(path), tmp_(path + ".tmp")
    {
        fs::create_directories(fs::path(path).parent_path());
        fd_ = ::open(tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd_ < 0)
            throw std::runtime_error("cannot create " + tmp_);
        cdb_make_start(&m_, fd_);
    }
    void add(const std::string &k, const std::string &v)
    {
        cdb_make_add(&m_, k.data(), static_cast<unsigned>(k.size()), v.data(), static_cast<unsigned>(v.size()));
    }
    void finish()
    {
        cdb_make_finish(&m_);
        ::close(fd_);
        fs::rename(tmp_, path_);
    }

private:
    std::string path_, tmp_;
    int fd_;
    struct cdb_make m_;
};

// One real hash per user below s.hashed, the shared one above.
std::vector<std::string> make_hashes(const StoreSpec &s)
{
    std::vector<std::string> h;
    h.reserve(std::min(s.hashed, s.users) + 1);
    for (size_t i = 0; i < std::min(s.hashed, s.users); i++)
        h.push_back(crypt_password(password(i), s.scheme, static_cast<unsigned>(i * 7919 + 1)));
    h.push_back(crypt_password("shared-" + password(0), s.scheme, 4242));
    return h;
}

const std::string &hash_of(const std::vector<std::string> &h, const StoreSpec &s, size_t i)
{
    return i < s.hashed ? h[i] : h.back();
}

std::string vpopmail_domain_dir(const StoreSpec &s, size_t d)
{
    // like vpopmail's bigdir: the first 99 domains directly, then 0/, 1/, ...
    std::string base = s.dir + "/vpopmail/domains/";
    return d < 99 ? base + domain_name(d) : base + std::to_string((d - 99) / 100) + "/" + domain_name(d);
}

}  // namespace

void write_vpopmail(const StoreSpec &s)
{
    const auto hashes = make_hashes(s);
    CdbWriter assign(s.dir + "/qmail/users/cdb");
    for (size_t d = 0; d < s.domains; d++) {
        std::string v = domain_name(d) + std::string(1, '\0') + "89" + std::string(1, '\0') + "89" +
                        std::string(1, '\0') + vpopmail_domain_dir(s, d) + std::string("\0-\0", 3);
        assign.add("!" + domain_name(d) + "-", v);
    }
    assign.add("", "-");
    assign.finish();
    for (size_t d = 0; d < s.domains; d++) {  // one file at a time: 1000 domains, 1000 fds otherwise
        CdbWriter w(vpopmail_domain_dir(s, d) + "/vpasswd.cdb");
        for (size_t i = d; i < s.users; i += s.domains) {
            const std::string name = user_name(i);
            w.add(name, hash_of(hashes, s, i) + ":1:0:" + name + ":" + vpopmail_domain_dir(s, d) + "/" + name +
                            ":NOQUOTA");
        }
        w.finish();
    }
    fs::create_directories(s.dir + "/vpopmail/etc");
    std::ofstream(s.dir + "/vpopmail/etc/defaultdomain") << domain_name(0) << "\n";
}

void write_vmailmgr(const StoreSpec &s)
{
    const auto hashes = make_hashes(s);
    fs::create_directories(s.dir + "/qmail/control");
    {
        std::ofstream vd(s.dir + "/qmail/control/virtualdomains");
        for (size_t d = 0; d < s.domains; d++)
            vd << domain_name(d) << ":" << vmailmgr_base(d) << "\n";
        std::ofstream(s.dir + "/qmail/control/locals") << "localhost\n";
    }
    const std::string z(1, '\0');
    for (size_t d = 0; d < s.domains; d++) {
        CdbWriter w(s.dir + "/home/" + vmailmgr_base(d) + "/passwd.cdb");
        for (size_t i = d; i < s.users; i += s.domains) {
            const std::string name = user_name(i);
            w.add(name, std::string("\x02\x0a\x01\x08\x01\x00", 6) + hash_of(hashes, s, i) + z + "./users/" + name + z +
                            z + name + z + "-" + z + "-" + z + "-" + z + "-" + z + "1795294514" + z + "-" + z);
        }
        w.finish();
    }
}

void write_passwd_file(const StoreSpec &s, const std::string &path)
{
    const auto hashes = make_hashes(s);
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path);
    for (size_t i = 0; i < s.users; i++)
        out << login(s, i) << ":{CRYPT}" << hash_of(hashes, s, i) << ":89:89::" << s.dir << "/home/" << user_name(i)
            << "::\n";
}

}  // namespace bench
