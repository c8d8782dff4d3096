#include <gtest/gtest.h>

#include <string>

#include "log_escape.h"

using vstore::log_escape;

TEST(LogEscape, PrintableAsciiStaysAsItIs)
{
    EXPECT_EQ(log_escape("/var/vpopmail/domains/example.com/alice: home outside (a-z 0-9 ~!@#$%^&*)"),
              "/var/vpopmail/domains/example.com/alice: home outside (a-z 0-9 ~!@#$%^&*)");
    EXPECT_EQ(log_escape(""), "");
}

TEST(LogEscape, ControlBytesDelAndHighBytesAreEscaped)
{
    const struct {
        std::string in, out;
    } cases[] = {
        {std::string("\x1b[2J", 4), "\\x1b[2J"},       // ESC: a terminal escape
        {"bell\a", "bell\\x07"},                       // BEL
        {"a\rb", "a\\x0db"},                           // CR: overwrites the line on a terminal
        {"a\nauth: Info: forged", "a\\x0aauth: Info: forged"},  // LF: a forged log line
        {"tab\t", "tab\\x09"},
        {std::string("nul\0x", 5), "nul\\x00x"},
        {"del\x7f", "del\\x7f"},
        {"\xc3\xa9t\xc3\xa9", "\\xc3\\xa9t\\xc3\\xa9"},  // bytes >= 0x80, UTF-8 or not
        {"\xff", "\\xff"},
        {"\x80", "\\x80"},
    };
    for (const auto &c : cases)
        EXPECT_EQ(log_escape(c.in), c.out) << c.out;
}

TEST(LogEscape, BackslashIsDoubledSoTheEscapedFormIsUnambiguous)
{
    // A store byte sequence that spells an escape must not read like an escaped byte.
    EXPECT_EQ(log_escape("\\x1b"), "\\\\x1b");
    EXPECT_NE(log_escape("\\x1b"), log_escape("\x1b"));
}

TEST(LogEscape, EveryByteValue)
{
    for (int b = 0; b < 256; b++) {
        const std::string in(1, static_cast<char>(b));
        const std::string out = log_escape(in);
        for (const char ch : out) {
            const auto c = static_cast<unsigned char>(ch);
            EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << b;
        }
        if (b >= 0x20 && b < 0x7f && b != '\\')
            EXPECT_EQ(out, in);
        else
            EXPECT_EQ(out.size(), b == '\\' ? 2u : 4u) << "byte " << b;
    }
}
