#include "test_support.h"

#include <cdb.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "vpopmail_settings.h"

namespace testsupport {

TempDir::TempDir()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "vstore-unit-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    // As root, the stores read here are opened with their owners' rights (not root's):
    // let them reach the tree, as they reach the real store directories.
    ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

namespace {

// As a store's owner writes its own files: a new file or directory belongs to whoever owns
// the directory it is made in (only root can give it away; others keep their own).
void own_like_parent(const std::string &path)
{
    struct stat st;
    if (::geteuid() == 0 && ::stat(std::filesystem::path(path).parent_path().c_str(), &st) == 0)
        if (::lchown(path.c_str(), st.st_uid, st.st_gid) < 0)
            throw std::runtime_error("lchown " + path);
}

}  // namespace

void make_dirs(const std::string &path)
{
    std::filesystem::path p(path);
    if (p.empty() || std::filesystem::exists(p))
        return;
    make_dirs(p.parent_path().string());
    std::filesystem::create_directory(p);
    own_like_parent(path);
}

void write_cdb(const std::string &path, const Records &records)
{
    make_dirs(std::filesystem::path(path).parent_path().string());
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        throw std::runtime_error("open " + tmp);
    struct cdb_make cdbm;
    cdb_make_start(&cdbm, fd);
    for (const auto &[k, v] : records)
        cdb_make_add(&cdbm, k.data(), static_cast<unsigned>(k.size()), v.data(),
                     static_cast<unsigned>(v.size()));
    cdb_make_finish(&cdbm);
    ::close(fd);
    own_like_parent(tmp);
    std::filesystem::rename(tmp, path);
}

void write_file(const std::string &path, const std::string &content)
{
    make_dirs(std::filesystem::path(path).parent_path().string());
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
    }
    own_like_parent(tmp);
    std::filesystem::rename(tmp, path);
}

void chown_tree(const std::string &path, unsigned uid, unsigned gid)
{
    if (::geteuid() != 0)
        return;
    const std::string cmd = "chown -R " + std::to_string(uid) + ":" + std::to_string(gid) + " '" + path + "'";
    if (std::system(cmd.c_str()) != 0)
        throw std::runtime_error("chown failed: " + cmd);
}

vstore::HashCostLimits default_hash_limits()
{
    vstore::VpopmailSettings s;
    std::string error;
    if (!vstore::VpopmailSettings::parse("", &s, &error))
        throw std::runtime_error("the default settings do not parse: " + error);
    return s.access.hash_limits;
}

}  // namespace testsupport
