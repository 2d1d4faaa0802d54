#include "server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <httplib.h>
#include <mutex>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <xtnn/core/errors.hpp>
#include <xtnn/vision/digits.hpp>

namespace mnist {

namespace {

std::string error_json(const std::string& message) {
    return nlohmann::json{{"error", message}}.dump();
}

// What a request said (a path, a header), fit to quote in a message: printable ASCII, at most
// 80 characters; anything else (bytes that are not UTF-8 among them) becomes '?'.
std::string as_quoted(std::string_view said) {
    std::string out;
    for (const char c : said.substr(0, 80)) {
        out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    return "'" + out + (said.size() > 80 ? "…'" : "'");
}

using clock = std::chrono::steady_clock;

// A whole HTTP/1.1 answer that closes the connection: for what is refused before httplib reads
// the request.
std::string plain_answer(int status, const char* reason, const std::string& message) {
    const std::string body = error_json(message + " (HTTP " + std::to_string(status) + ")");
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Sends what a socket takes of `text` without waiting (a refusal to a client that may not be
// reading), then closes it.
void refuse_and_close(int fd, const std::string& text) {
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

// Whether the header `name` (case-insensitive) appears in `head` with a value other than
// `allowed` (case-insensitive); its value in `*value`.
bool header_other_than(std::string_view head, std::string_view name, std::string_view allowed,
                       std::string* value) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    const auto equal = [&](std::string_view a, std::string_view b) {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(),
                          [&](char x, char y) { return lower(x) == lower(y); });
    };
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
        const std::size_t begin = at + 2;
        const std::size_t end = head.find("\r\n", begin);
        if (end == std::string_view::npos) {
            break;
        }
        const auto line = head.substr(begin, end - begin);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && equal(line.substr(0, colon), name)) {
            auto v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
                v.remove_prefix(1);
            }
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
                v.remove_suffix(1);
            }
            if (!equal(v, allowed)) {
                *value = std::string(v);
                return true;
            }
        }
        at = end;
    }
    return false;
}

// Set by a request_stream on its thread when a body went over the limit: the error handler
// then answers 413 rather than httplib's 400.
thread_local bool body_over_limit = false;

// A connection as httplib reads a request from it: first the head the reception read, then
// the socket, every byte after the head counted against the body limit and every read bounded
// by the request's deadline.
class request_stream final : public httplib::Stream {
  public:
    request_stream(int fd, std::string received, std::size_t head_bytes, std::size_t max_body,
                   clock::time_point deadline, std::chrono::milliseconds write_timeout)
        : fd_(fd), received_(std::move(received)), max_read_(head_bytes + max_body),
          deadline_(deadline), write_timeout_(write_timeout) {}

    bool is_readable() const override { return at_ < received_.size() || wait(POLLIN, left()); }
    bool is_writable() const override { return wait(POLLOUT, write_timeout_); }

    ssize_t read(char* out, std::size_t size) override {
        if (at_ < received_.size()) {
            const std::size_t n = std::min(size, received_.size() - at_);
            std::copy_n(received_.data() + at_, n, out);
            at_ += n;
            return static_cast<ssize_t>(n);
        }
        if (read_ >= max_read_) {
            body_over_limit = true;
            return -1;
        }
        if (!wait(POLLIN, left())) {
            return -1;
        }
        const ssize_t n = ::recv(fd_, out, std::min(size, max_read_ - read_), 0);
        if (n > 0) {
            read_ += static_cast<std::size_t>(n);
        }
        return n;
    }
    ssize_t write(const char* data, std::size_t size) override {
        if (!is_writable()) {
            return -1;
        }
        return ::send(fd_, data, size, MSG_NOSIGNAL);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address(::getpeername, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address(::getsockname, ip, port);
    }
    socket_t socket() const override { return fd_; }

  private:
    std::chrono::milliseconds left() const {
        return std::max(
            std::chrono::milliseconds(0),
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now()));
    }
    bool wait(short events, std::chrono::milliseconds timeout) const {
        pollfd p{fd_, events, 0};
        int r = 0;
        do {
            r = ::poll(&p, 1, static_cast<int>(timeout.count()));
        } while (r < 0 && errno == EINTR);
        return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
    template <class Get>
    void address(Get get, std::string& ip, int& port) const {
        sockaddr_storage a{};
        socklen_t length = sizeof a;
        char text[INET6_ADDRSTRLEN] = "";
        port = 0;
        if (get(fd_, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
            if (a.ss_family == AF_INET) {
                const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
                ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
                port = ntohs(v4->sin_port);
            } else if (a.ss_family == AF_INET6) {
                const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
                ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
                port = ntohs(v6->sin6_port);
            }
        }
        ip = text;
    }

    int fd_;
    std::string received_;
    std::size_t at_ = 0;
    std::size_t read_ = 0; // from the socket, after what the reception read
    std::size_t max_read_;
    clock::time_point deadline_;
    std::chrono::milliseconds write_timeout_;
};

// The thread that waits for every connection's request head at once (poll), so that clients
// sending slowly hold no worker: a head that arrives whole, within its limits, goes to
// `ready`; one too slow (408), too large or with too many headers (431) is answered and closed.
class reception {
  public:
    using ready_fn = std::function<void(int fd, std::string received, std::size_t head_bytes,
                                        clock::time_point accepted)>;

    reception(const serve_options& options, ready_fn ready)
        : options_(options), ready_(std::move(ready)), wake_(::eventfd(0, EFD_NONBLOCK)) {
        if (wake_ < 0) {
            throw xtnn::io_error("serve: cannot make an eventfd");
        }
    }
    ~reception() {
        stop();
        ::close(wake_);
    }
    reception(const reception&) = delete;
    reception& operator=(const reception&) = delete;

    void start() {
        thread_ = std::thread([this] { run(); });
    }
    // Closes every connection still sending its head and ends the thread.
    void stop() {
        stopping_ = true;
        notify();
        if (thread_.joinable()) {
            thread_.join();
        }
        std::lock_guard lock(mutex_);
        for (const int fd : incoming_) {
            ::close(fd);
        }
        incoming_.clear();
    }
    // A new connection (from httplib's accept loop).
    void add(int fd) {
        {
            std::lock_guard lock(mutex_);
            incoming_.push_back(fd);
        }
        notify();
    }

  private:
    struct pending {
        int fd;
        clock::time_point accepted;
        std::string bytes;
    };

    void notify() {
        const std::uint64_t one = 1;
        (void)!::write(wake_, &one, sizeof one);
    }

    void run() {
        std::deque<pending> waiting; // oldest first
        std::vector<pollfd> polled;
        std::vector<char> buffer(options_.max_head_bytes + 1);
        while (!stopping_) {
            polled.assign(1, pollfd{wake_, POLLIN, 0});
            for (const auto& p : waiting) {
                polled.push_back({p.fd, POLLIN, 0});
            }
            int timeout = -1;
            if (!waiting.empty()) {
                const auto first = std::min_element(
                    waiting.begin(), waiting.end(),
                    [](const pending& a, const pending& b) { return a.accepted < b.accepted; });
                const auto due = first->accepted + options_.head_timeout - clock::now();
                timeout = static_cast<int>(std::max<std::int64_t>(
                    0, std::chrono::duration_cast<std::chrono::milliseconds>(due).count() + 1));
            }
            if (::poll(polled.data(), polled.size(), timeout) < 0 && errno != EINTR) {
                break;
            }
            // Read what arrived (the indices of `polled` after the first are `waiting`'s).
            std::vector<bool> done(waiting.size(), false);
            for (std::size_t i = 0; i < waiting.size(); ++i) {
                if (polled[i + 1].revents == 0) {
                    continue;
                }
                done[i] = receive(waiting[i], buffer);
            }
            const auto now = clock::now();
            std::deque<pending> kept;
            for (std::size_t i = 0; i < waiting.size(); ++i) {
                if (done[i]) {
                    continue;
                }
                if (now - waiting[i].accepted >= options_.head_timeout) {
                    refuse_and_close(
                        waiting[i].fd,
                        plain_answer(408, "Request Timeout",
                                     "the request's head did not arrive within " +
                                         std::to_string(options_.head_timeout.count()) + " s"));
                    continue;
                }
                kept.push_back(std::move(waiting[i]));
            }
            waiting = std::move(kept);
            if ((polled[0].revents & POLLIN) != 0) {
                std::uint64_t count = 0;
                (void)!::read(wake_, &count, sizeof count);
            }
            std::vector<int> arrived;
            {
                std::lock_guard lock(mutex_);
                arrived.swap(incoming_);
            }
            for (const int fd : arrived) {
                ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
                if (waiting.size() >= options_.max_pending) {
                    refuse_and_close(waiting.front().fd,
                                     plain_answer(503, "Service Unavailable",
                                                  "too many requests are arriving at once"));
                    waiting.pop_front();
                }
                waiting.push_back({fd, clock::now(), {}});
            }
        }
        for (const auto& p : waiting) {
            ::close(p.fd);
        }
    }

    // Reads what connection `p` sent; true when it is no longer waiting (its head went to
    // ready_, or it was refused or closed).
    bool receive(pending& p, std::vector<char>& buffer) {
        const std::size_t room =
            options_.max_head_bytes + 1 - std::min(p.bytes.size(), options_.max_head_bytes);
        const ssize_t n = ::recv(p.fd, buffer.data(), room, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            ::close(p.fd);
            return true;
        }
        if (n < 0) {
            return false;
        }
        const std::size_t searched = p.bytes.size() >= 3 ? p.bytes.size() - 3 : 0;
        p.bytes.append(buffer.data(), static_cast<std::size_t>(n));
        const std::size_t end = p.bytes.find("\r\n\r\n", searched);
        const std::size_t head_bytes = end == std::string::npos ? p.bytes.size() : end + 4;
        if (head_bytes > options_.max_head_bytes) {
            refuse_and_close(p.fd,
                             plain_answer(431, "Request Header Fields Too Large",
                                          "the request's head is larger than " +
                                              std::to_string(options_.max_head_bytes) + " bytes"));
            return true;
        }
        std::size_t lines = 0;
        for (std::size_t at = p.bytes.find("\r\n"); at != std::string::npos && at < head_bytes;
             at = p.bytes.find("\r\n", at + 2)) {
            ++lines;
        }
        if (lines > options_.max_headers + 2) { // the request line and the empty line
            refuse_and_close(p.fd,
                             plain_answer(431, "Request Header Fields Too Large",
                                          "the request has more than " +
                                              std::to_string(options_.max_headers) + " headers"));
            return true;
        }
        if (end == std::string::npos) {
            return false;
        }
        ::fcntl(p.fd, F_SETFL, ::fcntl(p.fd, F_GETFL) & ~O_NONBLOCK);
        ready_(p.fd, std::move(p.bytes), head_bytes, p.accepted);
        return true;
    }

    const serve_options& options_;
    ready_fn ready_;
    int wake_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::vector<int> incoming_;
};

// httplib's server, with the connections it accepts handed to the reception rather than to a
// thread each.
class guarded_server final : public httplib::Server {
  public:
    std::function<void(int)> on_accept;
    // Serves one request whose head arrived, then closes the connection.
    void serve(int fd, std::string received, std::size_t head_bytes, clock::time_point accepted,
               const serve_options& options) {
        std::string encoding;
        if (header_other_than(std::string_view(received).substr(0, head_bytes), "Content-Encoding",
                              "identity", &encoding)) {
            refuse_and_close(fd,
                             plain_answer(415, "Unsupported Media Type",
                                          "compressed request bodies are not accepted (got "
                                          "Content-Encoding " +
                                              as_quoted(encoding) + "); send the image as it is"));
            return;
        }
        request_stream stream(
            fd, std::move(received), head_bytes, options.max_body_bytes, accepted + options.timeout,
            std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout));
        body_over_limit = false;
        bool closed = false;
        process_request(stream, true, closed, [](httplib::Request&) {});
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
    }

  private:
    bool process_and_close_socket(socket_t sock) override {
        on_accept(sock);
        return true;
    }
};

// httplib's accept loop hands each connection to process_and_close_socket, on its own thread.
class on_the_spot final : public httplib::TaskQueue {
  public:
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
};

const char* reason_name(xtnn::vision::no_digit_reason r) {
    switch (r) {
    case xtnn::vision::no_digit_reason::nothing:
        return "nothing";
    case xtnn::vision::no_digit_reason::too_many_marks:
        return "too_many_marks";
    case xtnn::vision::no_digit_reason::too_many_digits:
        return "too_many_digits";
    case xtnn::vision::no_digit_reason::several_rows:
        return "several_rows";
    }
    return "nothing";
}

} // namespace

api_answer answer_predict(any_model& model, std::span<const std::uint8_t> body,
                          std::string_view content_type, bool single, const image_limits& limits) {
    // "image/png; charset=…" names the type before any parameter.
    const auto type = content_type.substr(0, content_type.find(';'));
    if (type != "image/png" && type != "image/jpeg") {
        return {415, error_json("expected the image's bytes as image/png or image/jpeg, got " +
                                (type.empty() ? std::string("no Content-Type") : as_quoted(type)))};
    }
    if (body.size() > limits.max_file_bytes) {
        return {413,
                error_json("the image has " + std::to_string(body.size()) +
                           " bytes; expected at most " + std::to_string(limits.max_file_bytes))};
    }
    xtnn::vision::number_reading reading;
    try {
        reading = read_image(model, decode_gray_image(body, "the uploaded image", limits),
                             {.single_digit = single});
    } catch (const xtnn::io_error& e) {
        return {400, error_json(e.what())};
    } catch (const xtnn::vision::no_digit_error& e) {
        return {422,
                nlohmann::json{{"error", e.what()}, {"reason", reason_name(e.reason())}}.dump()};
    }
    nlohmann::json digits = nlohmann::json::array();
    for (const auto& d : reading.digits) {
        digits.push_back({{"digit", d.digit},
                          {"confidence", d.confidence()},
                          {"box", {d.bounds.x, d.bounds.y, d.bounds.width, d.bounds.height}},
                          {"probabilities", d.probabilities}});
    }
    const auto& first = reading.digits.front();
    const nlohmann::json answer{
        {"digit", first.digit},
        {"probabilities", first.probabilities},
        {"number", reading.number},
        {"digits", std::move(digits)},
        {"input", std::vector<int>(first.input.begin(), first.input.end())}};
    return {200, answer.dump()};
}

struct digit_server::state {
    guarded_server server;
    serve_options options;
    std::unique_ptr<reception> front;             // reads request heads
    std::unique_ptr<httplib::ThreadPool> workers; // serves requests whose heads arrived
    int port = 0;
    // One model per worker: a request borrows one, so no two threads share a model's buffers.
    std::vector<any_model> models;
    std::vector<any_model*> free;
    std::mutex mutex;
    std::condition_variable returned;
    socket_t listening = -1;

    any_model& borrow() {
        std::unique_lock lock(mutex);
        returned.wait(lock, [&] { return !free.empty(); });
        any_model* m = free.back();
        free.pop_back();
        return *m;
    }
    void give_back(any_model& m) {
        {
            std::lock_guard lock(mutex);
            free.push_back(&m);
        }
        returned.notify_one();
    }
};

digit_server::digit_server(const std::filesystem::path& weights, const serve_options& options)
    : state_(std::make_unique<state>()) {
    auto& s = *state_;
    s.options = options;
    const std::size_t workers = std::max<std::size_t>(1, options.workers);
    for (std::size_t i = 0; i < workers; ++i) {
        s.models.push_back(load_model(weights));
    }
    for (auto& m : s.models) {
        s.free.push_back(&m);
    }
    auto& server = s.server;
    server.new_task_queue = [] { return new on_the_spot; };
    s.front =
        std::make_unique<reception>(s.options, [&s](int fd, std::string received, std::size_t head,
                                                    clock::time_point accepted) {
            s.workers->enqueue([&s, fd, r = std::move(received), head, accepted]() mutable {
                s.server.serve(fd, std::move(r), head, accepted, s.options);
            });
        });
    server.on_accept = [&s](int fd) { s.front->add(fd); };
    server.set_payload_max_length(options.max_body_bytes);
    server.set_read_timeout(options.timeout);
    server.set_write_timeout(options.timeout);
    server.set_keep_alive_timeout(5);
    // Debian builds httplib as a library whose sockets take SO_REUSEPORT (a second server on a
    // port in use started silently and took half its connections) and listen with a backlog of
    // 5 (16 clients connecting at once overflowed it, and the kernel reset some of them). So the
    // socket takes SO_REUSEADDR alone, and the backlog is raised once it listens.
    server.set_socket_options([&s](socket_t sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        s.listening = sock;
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(page_html()), "text/html; charset=utf-8");
    });
    server.Post("/api/predict", [this](const httplib::Request& req, httplib::Response& res) {
        auto& st = *state_;
        auto& model = st.borrow();
        api_answer answer;
        try {
            const auto* bytes = reinterpret_cast<const std::uint8_t*>(req.body.data());
            answer = answer_predict(model, {bytes, req.body.size()},
                                    req.get_header_value("Content-Type"),
                                    req.get_param_value("single") == "1", st.options.image);
        } catch (const std::exception& e) {
            answer = {500, error_json(std::string("internal error: ") + e.what())};
        }
        st.give_back(model);
        res.status = answer.status;
        res.set_content(answer.body, "application/json");
    });
    // Every other method or path, and httplib's own refusals (413 for a body over the limit,
    // 400 for a malformed request), answer in JSON too.
    for (const char* path : {"/", "/api/predict"}) {
        const auto not_allowed = [path](const httplib::Request& req, httplib::Response& res) {
            res.status = 405;
            res.set_header("Allow", std::string(path) == "/" ? "GET" : "POST");
            res.set_content(error_json(req.method + " " + path + " is not allowed; use " +
                                       (std::string(path) == "/" ? "GET" : "POST")),
                            "application/json");
        };
        if (std::string(path) == "/") {
            server.Post(path, not_allowed);
        } else {
            server.Get(path, not_allowed);
        }
        server.Put(path, not_allowed);
        server.Delete(path, not_allowed);
        server.Patch(path, not_allowed);
    }
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (body_over_limit) { // a chunked body counted past the limit as it arrived
            res.status = 413;
            res.set_content(error_json("the request's body is larger than " +
                                       std::to_string(state_->options.max_body_bytes) +
                                       " bytes (HTTP 413)"),
                            "application/json");
            return;
        }
        if (res.body.empty()) {
            const std::string what = res.status == 404   ? "no such page: " + as_quoted(req.path)
                                     : res.status == 413 ? "the request is too large"
                                                         : "the request was refused";
            res.set_content(error_json(what + " (HTTP " + std::to_string(res.status) + ")"),
                            "application/json");
        }
    });
    s.port = options.port == 0
                 ? server.bind_to_any_port(options.host)
                 : (server.bind_to_port(options.host, options.port) ? options.port : -1);
    if (s.port <= 0 || ::listen(s.listening, SOMAXCONN) != 0) {
        throw xtnn::io_error("serve: cannot listen on " + options.host + ":" +
                             std::to_string(options.port) +
                             " (in use, or not an address of this machine)");
    }
}

digit_server::~digit_server() {
    stop();
}

int digit_server::port() const {
    return state_->port;
}

void digit_server::run() {
    auto& s = *state_;
    const std::size_t threads =
        std::max(std::max<std::size_t>(1, s.options.workers), s.options.connections);
    s.workers = std::make_unique<httplib::ThreadPool>(threads);
    s.front->start();
    s.server.listen_after_bind();
    s.front->stop();       // connections still sending their heads are closed
    s.workers->shutdown(); // requests whose heads arrived are answered
}

void digit_server::stop() {
    state_->server.stop();
}

} // namespace mnist
