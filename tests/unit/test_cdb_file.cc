#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

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

void put32(std::string &s, size_t at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// A cdb as a hostile owner writes it: one record ("other" -> "x"), then one table of `slots`
// slots that all 256 header entries point at, every slot filled with (slot_hash, the record).
std::string one_big_table_cdb(uint32_t slots, uint32_t slot_hash)
{
    std::string out(2048, '\0');
    std::string rec(8, '\0');
    put32(rec, 0, 5);
    put32(rec, 4, 1);
    out += rec + "other" + "x";
    const size_t table = out.size();
    std::string t(static_cast<size_t>(slots) * 8, '\0');
    for (uint32_t i = 0; i < slots; i++) {
        put32(t, i * 8, slot_hash);
        put32(t, i * 8 + 4, 2048);
    }
    out += t;
    for (uint32_t b = 0; b < 256; b++) {
        put32(out, b * 8, static_cast<uint32_t>(table));
        put32(out, b * 8 + 4, slots);
    }
    return out;
}

std::shared_ptr<CdbFile> open_cdb(const std::string &path)
{
    bool missing = false;
    std::string err;
    auto f = CdbFile::open(path, &missing, &err);
    EXPECT_NE(f, nullptr) << err;
    return f;
}

template <class F>
double seconds_of(F &&f)
{
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past the tick of its change
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
    CdbCache cache(own_rights_files(), &watcher);
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

TEST(CdbFileBounds, OneHugeTableWithoutEmptySlotsIsCorruptAfterTheBound)
{
    // 256K slots (2 MiB, read with pread: past the size copied at open), none empty: the old
    // lookup read them all, on the auth process's event loop.
    TempDir dir;
    testsupport::write_file(dir / "big.cdb", one_big_table_cdb(1u << 18, 0x12345678));
    auto f = open_cdb(dir / "big.cdb");
    ASSERT_NE(f, nullptr);
    CdbFile::Hit hit;
    const double took = seconds_of([&] {
        for (int i = 0; i < 100; i++)
            hit = f->find("alice" + std::to_string(i));
    });
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("has no empty slot in the 256 slots"), std::string::npos) << hit.error;
    EXPECT_NE(hit.error.find("big.cdb is corrupt"), std::string::npos) << hit.error;
    EXPECT_LT(took, 0.5) << "100 lookups";
    EXPECT_EQ(f->find_signed_char_hash("j\xc3\xb6hn").status, CdbFile::Status::Corrupt);
}

TEST(CdbFileBounds, SlotsWithTheKeysHashButOtherKeysAreBounded)
{
    TempDir dir;
    testsupport::write_file(dir / "same.cdb", one_big_table_cdb(1u << 16, cdb_hash_unsigned("alice")));
    auto f = open_cdb(dir / "same.cdb");
    ASSERT_NE(f, nullptr);
    CdbFile::Hit hit;
    const double took = seconds_of([&] { hit = f->find("alice"); });
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("other keys with the hash of alice"), std::string::npos) << hit.error;
    EXPECT_LT(took, 0.05);
}

TEST(CdbFileBounds, SmallTableWithNoEmptySlotIsCorruptNotNotFound)
{
    TempDir dir;
    testsupport::write_file(dir / "full.cdb", one_big_table_cdb(4, 0x01));
    auto f = open_cdb(dir / "full.cdb");
    ASSERT_NE(f, nullptr);
    const CdbFile::Hit hit = f->find("alice");
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("hash table " + std::to_string(cdb_hash_unsigned("alice") & 255) +
                             " (4 slots) has no empty slot"),
              std::string::npos)
        << hit.error;
}

TEST(CdbFileBounds, HonestLargeFilesAreFoundWithinTheBound)
{
    // tinycdb's writer, as vpopmail's tools use: a big domain is nowhere near the bound.
    TempDir dir;
    testsupport::Records recs;
    for (int i = 0; i < 50000; i++)
        recs.emplace_back("user" + std::to_string(i) + "@example.com", "pw" + std::to_string(i));
    testsupport::write_cdb(dir / "u.cdb", recs);
    auto f = open_cdb(dir / "u.cdb");
    ASSERT_NE(f, nullptr);
    for (const auto &[k, v] : recs) {
        const CdbFile::Hit hit = f->find(k);
        ASSERT_EQ(hit.status, CdbFile::Status::Found) << k << ": " << hit.error;
        ASSERT_EQ(hit.value, v);
    }
    for (int i = 0; i < 50000; i++)
        ASSERT_EQ(f->find("nobody" + std::to_string(i)).status, CdbFile::Status::NotFound);
}

TEST(CdbFileBounds, OversizedValuesAreRefusedBeforeTheyTakeMemory)
{
    TempDir dir;
    testsupport::write_cdb(dir / "v.cdb", {{"alice", std::string(CdbFile::kMaxValueBytes + 1, 'v')},
                                           {"bob", std::string(CdbFile::kMaxValueBytes, 'v')}});
    auto f = open_cdb(dir / "v.cdb");
    ASSERT_NE(f, nullptr);
    CdbFile::Hit hit = f->find("alice");
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("the record of 65537 bytes for alice is larger than 65536 bytes"), std::string::npos)
        << hit.error;
    EXPECT_TRUE(hit.value.empty());
    EXPECT_EQ(f->find("bob").status, CdbFile::Status::Found);
    EXPECT_EQ(f->find("alice", CdbFile::kMaxValueBytes + 1).status, CdbFile::Status::Found);  // a caller's cap
    EXPECT_EQ(f->find("bob", 100).status, CdbFile::Status::Corrupt);

    unsigned pos = 0;
    std::string k, v, err;
    EXPECT_EQ(f->next(&pos, &k, &v, &err), -1);
    EXPECT_NE(err.find("the record of 65537 bytes at 2048"), std::string::npos) << err;
    pos = 0;
    EXPECT_EQ(f->next(&pos, &k, &v, &err, CdbFile::kMaxValueBytes + 1), 1);
}

TEST(CdbFileBounds, A512MiBValueInASparseFileIsRefusedWithoutReadingIt)
{
    // The record claims 512 MiB and the file holds them (a hole): only its header is read.
    TempDir dir;
    const uint32_t dlen = 512u << 20;
    std::string head(2048 + 8, '\0');
    put32(head, 2048, 5);
    put32(head, 2052, dlen);
    head += "alice";
    const uint32_t table = static_cast<uint32_t>(head.size()) + dlen;
    std::string t(16, '\0');
    const uint32_t h = cdb_hash_unsigned("alice");
    put32(t, ((h >> 8) % 2) * 8, h);
    put32(t, ((h >> 8) % 2) * 8 + 4, 2048);
    for (uint32_t b = 0; b < 256; b++) {
        put32(head, b * 8, table);
        put32(head, b * 8 + 4, b == (h & 255) ? 2 : 0);
    }
    const std::string path = dir / "sparse.cdb";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
    ASSERT_EQ(::pwrite(fd, t.data(), t.size(), table), static_cast<ssize_t>(t.size()));
    ::close(fd);
    auto f = open_cdb(path);
    ASSERT_NE(f, nullptr);
    CdbFile::Hit hit;
    const double took = seconds_of([&] { hit = f->find("alice"); });
    EXPECT_EQ(hit.status, CdbFile::Status::Corrupt);
    EXPECT_NE(hit.error.find("the record of 536870912 bytes for alice"), std::string::npos) << hit.error;
    EXPECT_LT(took, 0.05);
    unsigned pos = 0;
    std::string k, v, err;
    EXPECT_EQ(f->next(&pos, &k, &v, &err), -1);
    EXPECT_NE(err.find("536870912 bytes"), std::string::npos) << err;
}

namespace {

// Rewrites path in place (same size, same inode) and sets its times back, as a writer that
// hides its change would: only the ctime tells.
void rewrite_in_place_keeping_times(const std::string &path, const std::string &content)
{
    struct stat before;
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    ASSERT_EQ(static_cast<size_t>(before.st_size), content.size());
    const int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, content.data(), content.size(), 0), static_cast<ssize_t>(content.size()));
    const struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(::futimens(fd, times), 0);
    ::close(fd);
    struct stat after;
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    ASSERT_EQ(after.st_ino, before.st_ino);
    ASSERT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

std::string cdb_bytes(const TempDir &dir, const testsupport::Records &recs)
{
    testsupport::write_cdb(dir / "scratch.cdb", recs);
    return vstore::read_file(dir / "scratch.cdb", 1 << 20).content;
}

}  // namespace

TEST(FileStamp, SeesASameSizeRewriteInPlaceWithTheMtimeSetBack)
{
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "v1"}});
    struct stat st;
    ASSERT_EQ(::stat((dir / "a.cdb").c_str(), &st), 0);
    const FileStamp old = FileStamp::of(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(old.recently_changed());
    rewrite_in_place_keeping_times(dir / "a.cdb", cdb_bytes(dir, {{"alice", "v2"}}));
    ASSERT_EQ(::stat((dir / "a.cdb").c_str(), &st), 0);
    EXPECT_NE(FileStamp::of(st), old);
    EXPECT_TRUE(FileStamp::of(st).recently_changed());
}

TEST(CdbCache, SeesASameSizeRewriteInPlaceWithTheMtimeSetBack)
{
    // without a watcher (shared_fs): every get() stats
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "v1"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CdbCache cache;
    auto r1 = cache.get(dir / "a.cdb");
    ASSERT_NE(r1.file, nullptr);
    EXPECT_EQ(r1.file->find("alice").value, "v1");  // copied whole at open
    EXPECT_EQ(cache.get(dir / "a.cdb").file, r1.file);
    rewrite_in_place_keeping_times(dir / "a.cdb", cdb_bytes(dir, {{"alice", "v2"}}));
    auto r2 = cache.get(dir / "a.cdb");
    ASSERT_NE(r2.file, nullptr) << r2.error;
    EXPECT_EQ(r2.file->find("alice").value, "v2");
}

TEST(CdbCacheWithWatcher, SeesASameSizeRewriteInPlaceWithTheMtimeSetBack)
{
    TempDir dir;
    ChangeWatcher watcher;
    ASSERT_TRUE(watcher.enabled());
    CdbCache cache(own_rights_files(), &watcher);
    const std::string path = dir / "d/a.cdb";
    testsupport::write_cdb(path, {{"alice", "v1"}});
    const std::string v2 = cdb_bytes(dir, {{"alice", "v2"}});  // (scratch.cdb: another directory)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    watcher.poll();
    auto r1 = cache.get(path);
    ASSERT_NE(r1.file, nullptr);
    ASSERT_TRUE(r1.watched);
    watcher.poll();
    EXPECT_EQ(cache.get(path).file, r1.file);  // nothing happened: no stat, same copy
    rewrite_in_place_keeping_times(path, v2);
    watcher.poll();  // IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE on the directory's watch
    auto r2 = cache.get(path);
    ASSERT_NE(r2.file, nullptr) << r2.error;
    EXPECT_EQ(r2.file->find("alice").value, "v2");
}

TEST(CdbCache, AVersionReadWithinATickOfItsChangeIsReadAgain)
{
    // A rewrite in the same clock tick would keep the whole stamp: such a version is not kept
    // on its stamp alone, until it is older than a tick.
    TempDir dir;
    testsupport::write_cdb(dir / "a.cdb", {{"alice", "v1"}});
    CdbCache cache;
    auto r1 = cache.get(dir / "a.cdb");
    ASSERT_NE(r1.file, nullptr);
    EXPECT_NE(cache.get(dir / "a.cdb").file, r1.file);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r2 = cache.get(dir / "a.cdb");
    EXPECT_EQ(cache.get(dir / "a.cdb").file, r2.file);
}

// An owner that changes its file's version before every lookup (a chmod is enough) makes the
// cache open it again each time; a copy of it is made at most once a second, pread() serves
// in between, and once the second has passed the next lookup has a copy again.
TEST(CdbCache, CopiesAPathAtMostOnceASecond)
{
    TempDir dir;
    const std::string path = dir / "a.cdb";
    testsupport::write_cdb(path, {{"alice", "v1"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past the tick of its change
    CdbCache cache;
    auto first = cache.get(path);
    ASSERT_NE(first.file, nullptr) << first.error;
    EXPECT_FALSE(first.file->copy_deferred());
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(::chmod(path.c_str(), i % 2 == 0 ? 0640 : 0600), 0);
        auto r = cache.get(path);
        ASSERT_NE(r.file, nullptr) << r.error;
        EXPECT_NE(r.file, first.file);  // a new version: opened again
        EXPECT_TRUE(r.file->copy_deferred()) << "copied again at change " << i;
        EXPECT_EQ(r.file->find("alice").value, "v1");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    auto later = cache.get(path);
    ASSERT_NE(later.file, nullptr) << later.error;
    EXPECT_FALSE(later.file->copy_deferred());  // its second has passed: a copy again
    EXPECT_EQ(later.file->find("alice").value, "v1");
}
