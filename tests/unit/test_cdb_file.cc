#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "cdb_file.h"
#include "test_support.h"

using namespace vstore;
using testsupport::TempDir;

namespace {

// A cdb whose record for `key` was placed with the signed-char hash, as vmailmgr writes it.
std::string signed_hash_cdb(const std::string &key, const std::string &value)
{
    std::string out(2048, '\0');
    auto put32 = [](std::string &s, size_t at, uint32_t v) {
        for (int i = 0; i < 4; i++)
            s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
    };
    const uint32_t h = cdb_hash_signed(key);
    size_t rec = out.size();
    std::string r(8, '\0');
    put32(r, 0, static_cast<uint32_t>(key.size()));
    put32(r, 4, static_cast<uint32_t>(value.size()));
    out += r + key + value;
    size_t table = out.size();
    std::string t(16, '\0');  // 2 slots
    uint32_t slot = (h >> 8) % 2;
    put32(t, slot * 8, h);
    put32(t, slot * 8 + 4, static_cast<uint32_t>(rec));
    out += t;
    for (uint32_t b = 0; b < 256; b++) {
        put32(out, b * 8, static_cast<uint32_t>(table));
        put32(out, b * 8 + 4, b == (h & 255) ? 2 : 0);
    }
    return out;
}

}  // namespace

TEST(CdbFile, FindsRecordsAndReportsMissingKeys)
{
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "one"}, {"bob", std::string("t\0o", 3)}});
    bool missing = true;
    std::string err;
    auto f = CdbFile::open(dir / "a.cdb", &missing, &err);
    ASSERT_NE(f, nullptr) << err;
    EXPECT_EQ(f->find("alice").status, CdbFile::Status::Found);
    EXPECT_EQ(f->find("alice").value, "one");
    EXPECT_EQ(f->find("bob").value, std::string("t\0o", 3));
    EXPECT_EQ(f->find("carol").status, CdbFile::Status::NotFound);
    EXPECT_EQ(f->find("ALICE").status, CdbFile::Status::NotFound);
}

TEST(CdbFile, MissingTruncatedAndNonRegularFilesFailWithReasons)
{
    TempDir dir;
    bool missing = false;
    std::string err;
    EXPECT_EQ(CdbFile::open(dir / "none.cdb", &missing, &err), nullptr);
    EXPECT_TRUE(missing);

    testsupport::write_file(dir / "empty.cdb", "");
    EXPECT_EQ(CdbFile::open(dir / "empty.cdb", &missing, &err), nullptr);
    EXPECT_FALSE(missing);
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;

    testsupport::make_dirs(dir / "adir.cdb");
    EXPECT_EQ(CdbFile::open(dir / "adir.cdb", &missing, &err), nullptr);
    EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
}

TEST(CdbFile, CorruptPointersAreReportedNotFollowed)
{
    TempDir dir;
    // Every bucket claims a table far beyond the end of the file.
    std::string bytes(2048, '\0');
    for (int b = 0; b < 256; b++) {
        bytes[b * 8 + 1] = '\x7f';  // pos 0x7f00
        bytes[b * 8 + 4] = 4;       // 4 slots
    }
    testsupport::write_file(dir / "bad.cdb", bytes);
    bool missing;
    std::string err;
    // Refused when opened: no lookup ever reads through such a header.
    auto f = CdbFile::open(dir / "bad.cdb", &missing, &err);
    EXPECT_EQ(f, nullptr);
    EXPECT_FALSE(missing);
    EXPECT_NE(err.find("corrupt"), std::string::npos) << err;
}

TEST(CdbFile, SequentialScanVisitsEveryRecord)
{
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"a", "1"}, {"b", "2"}, {"c", "3"}});
    bool missing;
    std::string err;
    auto f = CdbFile::open(dir / "a.cdb", &missing, &err);
    ASSERT_NE(f, nullptr);
    unsigned pos = 0;
    std::string k, v;
    std::string seen;
    while (f->next(&pos, &k, &v) > 0)
        seen += std::string(k) + "=" + std::string(v) + ";";
    EXPECT_EQ(seen, "a=1;b=2;c=3;");
}

TEST(CdbFile, SignedCharHashDiffersOnlyForHighBytes)
{
    EXPECT_EQ(cdb_hash_signed("alice"), cdb_hash_unsigned("alice"));
    EXPECT_NE(cdb_hash_signed("j\xc3\xb6hn"), cdb_hash_unsigned("j\xc3\xb6hn"));
}

TEST(CdbFile, SignedCharHashLookupFindsWhatTinycdbCannot)
{
    TempDir dir;
    const std::string key = "j\xc3\xb6hn";
    testsupport::write_file(dir / "s.cdb", signed_hash_cdb(key, "record"));
    bool missing;
    std::string err;
    auto f = CdbFile::open(dir / "s.cdb", &missing, &err);
    ASSERT_NE(f, nullptr) << err;
    EXPECT_EQ(f->find(key).status, CdbFile::Status::NotFound);
    CdbFile::Hit hit = f->find_signed_char_hash(key);
    ASSERT_EQ(hit.status, CdbFile::Status::Found);
    EXPECT_EQ(hit.value, "record");
}

TEST(CdbCache, SeesAFileReplacedByRename)
{
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "v1"}});
    CdbCache cache;
    auto r1 = cache.get(dir / "a.cdb");
    ASSERT_NE(r1.file, nullptr);
    EXPECT_EQ(r1.file->find("alice").value, "v1");
    EXPECT_EQ(cache.get(dir / "a.cdb").file, r1.file);  // unchanged: same mapping
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "v2"}, {"bob", "new"}});
    auto r2 = cache.get(dir / "a.cdb");
    ASSERT_NE(r2.file, nullptr);
    EXPECT_EQ(r2.file->find("alice").value, "v2");
    EXPECT_EQ(r2.file->find("bob").status, CdbFile::Status::Found);
    EXPECT_EQ(r1.file->find("alice").value, "v1");  // the old mapping stays valid while held
    ::unlink((dir / "a.cdb").c_str());
    auto r3 = cache.get(dir / "a.cdb");
    EXPECT_EQ(r3.file, nullptr);
    EXPECT_TRUE(r3.missing);
}

TEST(CdbCacheWithWatcher, ReusesCheckedEntriesAndSeesEveryKindOfChange)
{
    TempDir dir;
    ChangeWatcher watcher;
    ASSERT_TRUE(watcher.enabled());
    CdbCache cache(&watcher);
    const std::string path = dir / "d/a.cdb";
    testsupport::make_dirs(dir / "d");

    watcher.poll();
    EXPECT_TRUE(cache.get(path).missing);  // missing, and remembered as missing
    testsupport::write_cdb(path, {{"alice", "v1"}});
    watcher.poll();
    auto r = cache.get(path);
    ASSERT_NE(r.file, nullptr) << r.error;  // created: seen
    EXPECT_EQ(r.file->find("alice").value, "v1");

    watcher.poll();
    EXPECT_EQ(cache.get(path).file, r.file);  // nothing happened: same mapping, no reopen

    testsupport::write_cdb(path, {{"alice", "v2"}});  // tmp + rename
    watcher.poll();
    EXPECT_EQ(cache.get(path).file->find("alice").value, "v2");

    // the whole directory moves away, then a new one appears under the old name
    std::filesystem::rename(dir / "d", dir / "d.away");
    watcher.poll();
    EXPECT_TRUE(cache.get(path).missing);
    testsupport::make_dirs(dir / "d");
    testsupport::write_cdb(path, {{"alice", "v3"}});
    watcher.poll();
    auto r3 = cache.get(path);
    ASSERT_NE(r3.file, nullptr) << r3.error;
    EXPECT_EQ(r3.file->find("alice").value, "v3");

    // a directory that did not exist yet: its parent's events announce it
    const std::string later = dir / "later/b.cdb";
    watcher.poll();
    EXPECT_TRUE(cache.get(later).missing);
    testsupport::write_cdb(later, {{"bob", "b"}});
    watcher.poll();
    ASSERT_NE(cache.get(later).file, nullptr);
}

TEST(CdbFile, EmptyTablesMayHaveAnyPosition)
{
    // Only a table with slots is read; a writer may leave an empty table's position at 0.
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "one"}});
    std::string bytes = vstore::read_file(dir / "a.cdb", 1 << 20).content;
    for (int b = 0; b < 256; b++)
        if (bytes.substr(b * 8 + 4, 4) == std::string(4, '\0'))
            bytes.replace(b * 8, 4, std::string(4, '\0'));
    testsupport::write_file(dir / "b.cdb", bytes);
    bool missing;
    std::string err;
    auto f = CdbFile::open(dir / "b.cdb", &missing, &err);
    ASSERT_NE(f, nullptr) << err;
    EXPECT_EQ(f->find("alice").value, "one");
    unsigned pos = 0;
    std::string k, v;
    EXPECT_EQ(f->next(&pos, &k, &v), 1);
    EXPECT_EQ(k, "alice");
    EXPECT_EQ(f->next(&pos, &k, &v), 0);
}
