// A minimal PostgreSQL v3 client for the embedded_postgres tests: raw sockets, SSLRequest,
// StartupMessage, cleartext/MD5 password, simple queries. It exists so that these tests need
// neither libpq nor the sleet driver (which is tested against embedded_postgres, not the reverse).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace probe {

class fd_guard {
public:
    explicit fd_guard(int fd = -1) : fd_(fd) {}
    fd_guard(fd_guard&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    fd_guard& operator=(fd_guard&& o) noexcept
    {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~fd_guard()
    {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

inline fd_guard connect_tcp(const std::string& host, std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad IPv4 address " + host);
    fd_guard fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    return fd;
}

inline fd_guard connect_unix(const std::string& path)
{
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long");
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    fd_guard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
    return fd;
}

inline void send_all(int fd, const std::string& bytes)
{
    std::size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        off += static_cast<std::size_t>(n);
    }
}

inline std::string recv_exact(int fd, std::size_t n)
{
    std::string out(n, '\0');
    std::size_t off = 0;
    while (off < n) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) throw std::runtime_error("timeout waiting for the server");
        ssize_t r = ::recv(fd, out.data() + off, n - off, 0);
        if (r <= 0) throw std::runtime_error("connection closed by the server");
        off += static_cast<std::size_t>(r);
    }
    return out;
}

inline void put32(std::string& s, std::uint32_t v)
{
    v = htonl(v);
    s.append(reinterpret_cast<const char*>(&v), 4);
}

inline std::uint32_t get32(const std::string& s, std::size_t at)
{
    std::uint32_t v;
    std::memcpy(&v, s.data() + at, 4);
    return ntohl(v);
}

/// Sends SSLRequest and returns the server's one-byte answer ('S' or 'N').
inline char ssl_request(int fd)
{
    std::string m;
    put32(m, 8);
    put32(m, 80877103);
    send_all(fd, m);
    return recv_exact(fd, 1)[0];
}

struct message {
    char type;
    std::string body;
};

inline message read_message(int fd)
{
    std::string head = recv_exact(fd, 5);
    std::uint32_t len = get32(head, 1);
    return {head[0], recv_exact(fd, len - 4)};
}

inline void send_message(int fd, char type, const std::string& body)
{
    std::string m(1, type);
    put32(m, static_cast<std::uint32_t>(body.size() + 4));
    send_all(fd, m + body);
}

/// The 'M' (message) and 'C' (SQLSTATE) fields of an ErrorResponse as "SQLSTATE: message".
inline std::string error_text(const std::string& body)
{
    std::string code, msg;
    for (std::size_t i = 0; i < body.size() && body[i] != '\0';) {
        char f = body[i++];
        std::size_t end = body.find('\0', i);
        std::string v = body.substr(i, end - i);
        if (f == 'C') code = v;
        if (f == 'M') msg = v;
        i = end + 1;
    }
    return code + ": " + msg;
}

inline void send_startup(int fd, const std::string& user, const std::string& db)
{
    std::string body;
    put32(body, 196608);
    body += std::string("user") + '\0' + user + '\0' + "database" + '\0' + db + '\0' + '\0';
    std::string m;
    put32(m, static_cast<std::uint32_t>(body.size() + 4));
    send_all(fd, m + body);
}

/// The first answer to a StartupMessage: the authentication request code (0 ok, 3 cleartext,
/// 5 MD5, 10 SASL), or throws runtime_error("SQLSTATE: message") for an ErrorResponse.
inline message first_answer(int fd, const std::string& user, const std::string& db)
{
    send_startup(fd, user, db);
    message m = read_message(fd);
    if (m.type == 'E') throw std::runtime_error(error_text(m.body));
    if (m.type != 'R') throw std::runtime_error(std::string("unexpected message ") + m.type);
    return m;
}

inline int auth_code(const message& m) { return static_cast<int>(get32(m.body, 0)); }

inline std::string md5_hex(const std::string& data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

using rows = std::vector<std::vector<std::optional<std::string>>>;

/// A logged-in session (trust, cleartext or MD5) running simple queries.
class session {
public:
    explicit session(fd_guard fd, const std::string& user, const std::string& password = {},
                     const std::string& db = "postgres")
        : fd_(std::move(fd))
    {
        message m = first_answer(fd_.get(), user, db);
        int code = auth_code(m);
        if (code == 3) {
            send_message(fd_.get(), 'p', password + '\0');
        } else if (code == 5) {
            std::string salt = m.body.substr(4, 4);
            send_message(fd_.get(), 'p', "md5" + md5_hex(md5_hex(password + user) + salt) + '\0');
        } else if (code != 0) {
            throw std::runtime_error("authentication request " + std::to_string(code) + " not supported by the probe");
        }
        if (code != 0) {
            message r = read_message(fd_.get());
            if (r.type == 'E') throw std::runtime_error(error_text(r.body));
            if (r.type != 'R' || auth_code(r) != 0) throw std::runtime_error("authentication not ok");
        }
        drain();
    }

    rows query(const std::string& sql)
    {
        send_message(fd_.get(), 'Q', sql + '\0');
        rows out;
        drain(&out);
        return out;
    }

    /// Single value of a single-row query.
    std::string value(const std::string& sql)
    {
        rows r = query(sql);
        if (r.size() != 1 || r[0].size() != 1 || !r[0][0]) throw std::runtime_error("not one value: " + sql);
        return *r[0][0];
    }

private:
    // Reads up to ReadyForQuery, collecting DataRows, throwing the first ErrorResponse.
    void drain(rows* out = nullptr)
    {
        std::string error;
        for (;;) {
            message m = read_message(fd_.get());
            if (m.type == 'E' && error.empty()) error = error_text(m.body);
            if (m.type == 'D' && out) {
                std::vector<std::optional<std::string>> row;
                std::uint16_t n = static_cast<std::uint16_t>((static_cast<unsigned char>(m.body[0]) << 8) |
                                                            static_cast<unsigned char>(m.body[1]));
                std::size_t at = 2;
                for (unsigned i = 0; i < n; ++i) {
                    std::int32_t len = static_cast<std::int32_t>(get32(m.body, at));
                    at += 4;
                    if (len < 0) {
                        row.emplace_back();
                    } else {
                        row.emplace_back(m.body.substr(at, static_cast<std::size_t>(len)));
                        at += static_cast<std::size_t>(len);
                    }
                }
                out->push_back(std::move(row));
            }
            if (m.type == 'Z') break;
        }
        if (!error.empty()) throw std::runtime_error(error);
    }

    fd_guard fd_;
};

} // namespace probe

#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>

namespace probe {

/// True when `pid` no longer runs (gone, or a zombie nobody reaped: in a container the
/// postmaster's parent may be a PID 1 that never reaps).
inline bool process_gone(int pid)
{
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = s.rfind(')');
    return s.empty() || (p != std::string::npos && p + 2 < s.size() && (s[p + 2] == 'Z' || s[p + 2] == 'X'));
}

inline bool exists(const std::string& path)
{
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

/// Polls `pred` every 50 ms for up to `seconds`.
template <class F> bool eventually(F pred, int seconds = 20)
{
    for (int i = 0; i < seconds * 20; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

inline std::string slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Answer to an SSLRequest on the server's TCP port: 'S' (TLS on) or 'N'.
inline char ssl_answer(const std::string& host, std::uint16_t port)
{
    fd_guard fd = connect_tcp(host, port);
    return ssl_request(fd.get());
}

} // namespace probe
