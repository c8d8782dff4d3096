#include "test_support.h"

#include <cdb.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace testsupport {

TempDir::TempDir()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "vstore-unit-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void make_dirs(const std::string &path) { std::filesystem::create_directories(path); }

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
    std::filesystem::rename(tmp, path);
}

}  // namespace testsupport
