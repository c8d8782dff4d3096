#include <sched.h>

#include <gtest/gtest.h>

#include "driver_args.h"
#include "vmailmgr_settings.h"
#include "vpopmail_store.h"

using namespace vstore;

TEST(DriverArgs, SplitsKeyValueWords)
{
    SettingWords w;
    std::string err;
    ASSERT_TRUE(split_args_words("  a=1 \tb=two  c= ", &w, &err)) << err;
    EXPECT_EQ(w, (SettingWords{{"a", "1"}, {"b", "two"}, {"c", ""}}));
}

TEST(DriverArgs, UnknownKeyIsNamed)
{
    VpopmailSettings s;
    std::string err;
    EXPECT_FALSE(VpopmailSettings::parse("vpopmail_dir=/vp webmail=127.0.0.1", &s, &err));
    EXPECT_EQ(err, "unknown argument 'webmail'");
    EXPECT_FALSE(VpopmailSettings::parse({{"vpopmail_webmail", "127.0.0.1"}}, SettingNames::Named24, &s, &err));
    EXPECT_EQ(err, "unknown setting 'vpopmail_webmail'");
    // a 2.4 name is not a 2.3 word, and the other way round
    EXPECT_FALSE(VpopmailSettings::parse("vpopmail_qmail_dir=/q", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse({{"qmail_dir", "/q"}}, SettingNames::Named24, &s, &err));
    EXPECT_TRUE(VpopmailSettings::parse({{"vpopmail_qmail_dir", "/q"}}, SettingNames::Named24, &s, &err)) << err;
    EXPECT_EQ(s.qmail_dir, "/q");
    // 2.3's blocking is 2.4's use_worker, not a named setting of the driver
    EXPECT_FALSE(VpopmailSettings::parse({{"vpopmail_blocking", "no"}}, SettingNames::Named24, &s, &err));
}

TEST(DriverArgs, WordWithoutValueAndDuplicatesAreErrors)
{
    VpopmailSettings s;
    std::string err;
    EXPECT_FALSE(VpopmailSettings::parse("blocking", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("=x", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("blocking=no blocking=yes", &s, &err));
    EXPECT_EQ(err, "'blocking' given twice");
}

TEST(DriverArgs, RemovedSettingSaysWhatReplacesIt)
{
    VmailmgrSettings s;
    std::string err;
    EXPECT_FALSE(VmailmgrSettings::parse("system_users=no", &s, &err));
    EXPECT_NE(err.find("pam passdb"), std::string::npos) << err;
    EXPECT_FALSE(VmailmgrSettings::parse({{"vmailmgr_system_users", "yes"}}, SettingNames::Named24, &s, &err));
    EXPECT_NE(err.find("removed"), std::string::npos) << err;
}

TEST(DriverArgs, ValuesWithSpacesPassOn24)
{
    // 2.4 settings reach the parser as pairs: a value may hold spaces (a path, a list)
    VmailmgrSettings s;
    std::string err;
    ASSERT_TRUE(VmailmgrSettings::parse({{"vmailmgr_config_dir", "/etc/vmail mgr"}}, SettingNames::Named24, &s, &err))
        << err;
    EXPECT_EQ(s.config_dir, "/etc/vmail mgr");
}

TEST(DriverArgs, EveryDefaultParses)
{
    // the table's defaults are applied through the same parsers as given values
    for (const SettingInfo &i : VpopmailSettings::infos()) {
        VpopmailSettings s;
        std::string err;
        EXPECT_TRUE(VpopmailSettings::parse(std::string(i.arg) + "=" + i.default_value, &s, &err) ||
                    i.default_value[0] == '\0')
            << i.arg << ": " << err;
    }
    VmailmgrSettings v;
    std::string err;
    ASSERT_TRUE(VmailmgrSettings::parse("", &v, &err)) << err;
    EXPECT_EQ(v.config_dir, "/etc/vmailmgr");
    EXPECT_EQ(v.access.hash_limits.max_crypt_rounds, 1000000u);
    EXPECT_EQ(v.access.hash_limits.max_bcrypt_cost, 14u);
    EXPECT_EQ(v.access.hash_limits.max_yescrypt_mib, 64u);
    EXPECT_EQ(v.verify_threads, default_verify_threads());
    EXPECT_FALSE(v.blocking);  // the auth process, through the store broker
}

TEST(VpopmailSettings, Defaults)
{
    VpopmailSettings s;
    std::string err;
    ASSERT_TRUE(VpopmailSettings::parse("vpopmail_dir=/vp", &s, &err)) << err;
    EXPECT_EQ(s.vpopmail_dir, "/vp");
    EXPECT_EQ(s.qmail_dir, "/var/qmail");
    EXPECT_EQ(s.default_domain, "");
    EXPECT_TRUE(s.webmail_ips.empty());
    EXPECT_FALSE(s.clear_prefer);
    EXPECT_FALSE(s.blocking);
}

TEST(VpopmailSettings, AllKeys)
{
    VpopmailSettings s;
    std::string err;
    ASSERT_TRUE(VpopmailSettings::parse("vpopmail_dir=/vp qmail_dir=/q default_domain=Ex.COM "
                                        "webmail_ips=127.0.0.1,::1 clear_password=prefer blocking=yes",
                                        &s, &err))
        << err;
    EXPECT_EQ(s.qmail_dir, "/q");
    EXPECT_EQ(s.default_domain, "ex.com");
    ASSERT_EQ(s.webmail_ips.size(), 2u);
    EXPECT_TRUE(s.clear_prefer);
    EXPECT_TRUE(s.blocking);
}

TEST(VpopmailSettings, BadValuesAreErrors)
{
    VpopmailSettings s;
    std::string err;
    EXPECT_FALSE(VpopmailSettings::parse("webmail_ips=not-an-ip", &s, &err));
    EXPECT_NE(err.find("not-an-ip"), std::string::npos);
    EXPECT_FALSE(VpopmailSettings::parse("clear_password=always", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("blocking=maybe", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("vpopmail_dir=relative", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("default_domain=ex_ample.com", &s, &err));
    EXPECT_FALSE(VpopmailSettings::parse("cache_key=%u", &s, &err));
    EXPECT_NE(err.find("cache_key"), std::string::npos);
}

TEST(IpAddress, V4MappedEqualsV4)
{
    IpAddress a, b, c;
    ASSERT_TRUE(IpAddress::parse("127.0.0.1", &a));
    ASSERT_TRUE(IpAddress::parse("::ffff:127.0.0.1", &b));
    ASSERT_TRUE(IpAddress::parse("127.0.0.2", &c));
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a == c);
}

TEST(DriverArgs, Seconds)
{
    unsigned v = 0;
    std::string err;
    ASSERT_TRUE(parse_seconds("k", "90", &v, &err));
    EXPECT_EQ(v, 90u);
    ASSERT_TRUE(parse_seconds("k", "5m", &v, &err));
    EXPECT_EQ(v, 300u);
    ASSERT_TRUE(parse_seconds("k", "1h", &v, &err));
    EXPECT_EQ(v, 3600u);
    ASSERT_TRUE(parse_seconds("k", "0", &v, &err));
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(parse_seconds("k", "", &v, &err));
    EXPECT_FALSE(parse_seconds("k", "5d", &v, &err));
    EXPECT_FALSE(parse_seconds("k", "m", &v, &err));
    EXPECT_FALSE(parse_seconds("k", "99999999999", &v, &err));
}

TEST(VpopmailSettings, Lastauth)
{
    VpopmailSettings s;
    std::string err;
    ASSERT_TRUE(VpopmailSettings::parse("vpopmail_dir=/vp", &s, &err));
    EXPECT_TRUE(s.lastauth);
    EXPECT_EQ(s.lastauth_interval, 60u);
    ASSERT_TRUE(VpopmailSettings::parse("lastauth=no lastauth_interval=5m", &s, &err)) << err;
    EXPECT_FALSE(s.lastauth);
    EXPECT_EQ(s.lastauth_interval, 300u);
    EXPECT_FALSE(VpopmailSettings::parse("lastauth_interval=soon", &s, &err));
}

TEST(DriverArgs, VerifyThreads)
{
    std::string error;
    unsigned n = 99;
    EXPECT_TRUE(vstore::parse_thread_count("verify_threads", "0", &n, &error));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(vstore::parse_thread_count("verify_threads", "16", &n, &error));
    EXPECT_EQ(n, 16u);
    EXPECT_TRUE(vstore::parse_thread_count("verify_threads", "auto", &n, &error));
    EXPECT_EQ(n, vstore::default_verify_threads());
    EXPECT_GE(n, 1u);
    // "auto" counts the CPUs this process may use, not the host's: pinned to one CPU, one.
    cpu_set_t usable, one;
    ASSERT_EQ(sched_getaffinity(0, sizeof(usable), &usable), 0);
    CPU_ZERO(&one);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &usable)) {
            CPU_SET(cpu, &one);
            break;
        }
    }
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
    const unsigned pinned = vstore::default_verify_threads();
    ASSERT_EQ(sched_setaffinity(0, sizeof(usable), &usable), 0);
    EXPECT_EQ(pinned, 1u);
    for (const char *bad : {"", "-1", "257", "1000", "two", "4x"}) {
        EXPECT_FALSE(vstore::parse_thread_count("verify_threads", bad, &n, &error)) << bad;
        EXPECT_NE(error.find("verify_threads"), std::string::npos);
    }
    vstore::VpopmailSettings s;
    EXPECT_FALSE(vstore::VpopmailSettings::parse("vpopmail_dir=/v verify_threads=lots", &s, &error));
    EXPECT_TRUE(vstore::VpopmailSettings::parse("vpopmail_dir=/v verify_threads=3", &s, &error)) << error;
    EXPECT_EQ(s.verify_threads, 3u);
}
