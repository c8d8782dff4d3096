// A load generator speaking Dovecot's auth-client protocol (what imap-login and pop3-login
// speak to the auth process): VERSION/CPID, then AUTH ... PLAIN requests with many in
// flight on one connection. Prints one JSON line: logins/s and latency percentiles.
//   auth_load SOCKET LOGINS_FILE CONCURRENCY SECONDS [SERVICE]
// LOGINS_FILE: "login<TAB>password" lines, used round-robin.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string base64(const std::string &in)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

class Conn {
public:
    explicit Conn(const std::string &path)
    {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {};
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
        if (fd_ < 0 || connect(fd_, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) < 0) {
            perror(("connect " + path).c_str());
            exit(1);
        }
    }
    ~Conn() { close(fd_); }
    void send(const std::string &s)
    {
        size_t done = 0;
        while (done < s.size()) {
            ssize_t n = write(fd_, s.data() + done, s.size() - done);
            if (n <= 0) {
                perror("write");
                exit(1);
            }
            done += n;
        }
    }
    bool line(std::string *out)
    {
        for (;;) {
            size_t nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                out->assign(buf_, pos_, nl - pos_);
                pos_ = nl + 1;
                if (pos_ > 65536) {
                    buf_.erase(0, pos_);
                    pos_ = 0;
                }
                return true;
            }
            char b[65536];
            ssize_t n = read(fd_, b, sizeof(b));
            if (n <= 0)
                return false;
            buf_.append(b, n);
        }
    }

private:
    int fd_;
    std::string buf_;
    size_t pos_ = 0;
};

double pct(std::vector<double> &v, double p)
{
    if (v.empty())
        return 0;
    size_t k = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    return v[k];
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: auth_load SOCKET LOGINS_FILE CONCURRENCY SECONDS [SERVICE]\n");
        return 2;
    }
    const std::string service = argc > 5 ? argv[5] : "imap";
    std::vector<std::string> resp;
    {
        std::ifstream in(argv[2]);
        std::string l;
        while (std::getline(in, l)) {
            size_t tab = l.find('\t');
            if (tab != std::string::npos)
                resp.push_back(base64(std::string(1, '\0') + l.substr(0, tab) + std::string(1, '\0') + l.substr(tab + 1)));
        }
    }
    if (resp.empty()) {
        fprintf(stderr, "auth_load: no logins in %s\n", argv[2]);
        return 2;
    }
    const int concurrency = atoi(argv[3]);
    const double seconds = atof(argv[4]);
    Conn c(argv[1]);
    c.send("VERSION\t1\t2\nCPID\t" + std::to_string(getpid()) + "\n");
    std::string line;
    while (c.line(&line) && line != "DONE") {
    }
    std::unordered_map<unsigned, Clock::time_point> inflight;
    std::vector<double> lat_ms;
    unsigned next_id = 1;
    size_t ok = 0, fail = 0, temp = 0, k = 0;
    const auto start = Clock::now();
    const auto stop_at = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    auto send_one = [&] {
        const unsigned id = next_id++;
        inflight[id] = Clock::now();
        c.send("AUTH\t" + std::to_string(id) + "\tPLAIN\tservice=" + service +
               "\trip=127.0.0.2\tlip=127.0.0.1\tsecured\tresp=" + resp[k++ % resp.size()] + "\n");
    };
    for (int i = 0; i < concurrency; i++)
        send_one();
    while (!inflight.empty() && c.line(&line)) {
        bool is_ok = line.compare(0, 3, "OK\t") == 0;
        if (!is_ok && line.compare(0, 5, "FAIL\t") != 0)
            continue;
        const unsigned id = static_cast<unsigned>(strtoul(line.c_str() + (is_ok ? 3 : 5), nullptr, 10));
        auto it = inflight.find(id);
        if (it == inflight.end())
            continue;
        const auto now = Clock::now();
        lat_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
        inflight.erase(it);
        if (is_ok)
            ok++;
        else if (line.find("code=temp_fail") != std::string::npos || line.find("\ttemp") != std::string::npos)
            temp++;
        else
            fail++;
        if (now < stop_at)
            send_one();
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const size_t total = ok + fail + temp;
    printf("{\"requests\": %zu, \"ok\": %zu, \"fail\": %zu, \"tempfail\": %zu, \"seconds\": %.3f, "
           "\"logins_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
           total, ok, fail, temp, elapsed, total / elapsed, pct(lat_ms, 0.50), pct(lat_ms, 0.99));
    return 0;
}
