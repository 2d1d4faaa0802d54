#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <iterator>
#include <mutex>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <xtnn/core/errors.hpp>

#include "server.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const fs::path weights = XTNN_MNIST_CNN_WEIGHTS;
const fs::path samples = XTNN_MNIST_SAMPLES_DIR;

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The server on a free loopback port, serving on its own thread while the test runs.
struct running_server {
    explicit running_server(mnist::serve_options options = {})
        : server(weights, with_any_port(options)) {
        thread = std::thread([this] { server.run(); });
        httplib::Client probe("127.0.0.1", server.port());
        for (int i = 0; i < 100 && !probe.Get("/"); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ~running_server() {
        server.stop();
        thread.join();
    }
    static mnist::serve_options with_any_port(mnist::serve_options o) {
        o.port = 0;
        return o;
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server.port());
        c.set_read_timeout(std::chrono::seconds(20));
        return c;
    }
    mnist::digit_server server;
    std::thread thread;
};

// A raw connection to the server, for requests httplib's client would not send.
struct raw_connection {
    int fd = -1;
    explicit raw_connection(int port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    }
    ~raw_connection() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;
    raw_connection(raw_connection&& o) noexcept : fd(std::exchange(o.fd, -1)) {}

    // Sends `text`; false once the server closed the connection.
    bool send(std::string_view text) const {
        while (!text.empty()) {
            const auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            text.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // What the server sends until it closes the connection, waiting at most `timeout`.
    std::string answer(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        std::string out;
        const auto end = std::chrono::steady_clock::now() + timeout;
        char buffer[4096];
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            pollfd p{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return out;
            }
            const auto n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return out;
            }
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }
};

// The resident memory of this process (the server runs in it), in MiB.
double resident_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024.0;
        }
    }
    return 0;
}

} // namespace

TEST_CASE("answer_predict: the reading as JSON, and every refusal as a 4xx with a reason",
          "[server]") {
    auto model = mnist::load_model(weights);
    const auto seven = read_bytes(samples / "sample-7.png");
    const auto two = read_bytes(samples / "sample-2.jpg");
    const mnist::image_limits limits{};

    const auto ok = mnist::answer_predict(model, as_bytes(seven), "image/png", false, limits);
    REQUIRE(ok.status == 200);
    const auto json = nlohmann::json::parse(ok.body);
    CHECK(json["digit"] == 7);
    CHECK(json["number"] == "7");
    REQUIRE(json["probabilities"].size() == 10);
    double sum = 0;
    for (const auto& p : json["probabilities"]) {
        sum += p.get<double>();
    }
    CHECK(sum == Approx(1.0).epsilon(1e-5));
    CHECK(json["input"].size() == 784);
    REQUIRE(json["digits"].size() == 1);
    CHECK(json["digits"][0]["box"].size() == 4);
    CHECK(mnist::answer_predict(model, as_bytes(two), "image/jpeg; charset=binary", true, limits)
              .status == 200);

    const auto refused = [&](const std::string& body, const std::string& type, int status,
                             const std::string& words) {
        const auto a = mnist::answer_predict(model, as_bytes(body), type, false, limits);
        CHECK(a.status == status);
        CHECK_THAT(nlohmann::json::parse(a.body)["error"].get<std::string>(), Contains(words));
    };
    refused(seven, "text/plain", 415, "expected the image's bytes as image/png or image/jpeg");
    refused(seven, "", 415, "no Content-Type");
    refused(seven, "image/\xff\xfe", 415, "got 'image/?\?'"); // not UTF-8: still JSON
    refused(seven.substr(0, seven.size() / 2), "image/png", 400, "not a readable PNG file");
    refused("GIF89a....", "image/png", 400, "not a PNG or JPEG file");
    const auto small = mnist::image_limits{.max_file_bytes = 100, .max_pixels = 1000};
    const auto big = mnist::answer_predict(model, as_bytes(seven), "image/png", false, small);
    CHECK(big.status == 413);
    // A blank page: no digit, said so with a reason a program can read.
    std::vector<std::uint8_t> blank_png;
    {
        mnist::gray_image blank(xtnn::shape<2>{60, 80});
        blank.fill(240);
        mnist::save_gray_image(blank, fs::temp_directory_path() / "xtnn-blank.png");
        const auto bytes = read_bytes(fs::temp_directory_path() / "xtnn-blank.png");
        blank_png.assign(bytes.begin(), bytes.end());
    }
    const auto nothing = mnist::answer_predict(model, blank_png, "image/png", false, limits);
    CHECK(nothing.status == 422);
    CHECK(nlohmann::json::parse(nothing.body)["reason"] == "nothing");
}

TEST_CASE("the server: the page, the API, hostile requests answered 4xx, and it keeps serving",
          "[server]") {
    running_server s({.max_body_bytes = std::size_t{1} << 20});
    auto c = s.client();
    const auto page = c.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK_THAT(page->body, Contains("id=\"prediction\"") && Contains("<canvas id=\"pad\"") &&
                               Contains("/api/predict"));
    CHECK_THAT(page->body, !Contains("http://") && !Contains("https://")); // nothing from a CDN

    const auto seven = read_bytes(samples / "sample-7.png");
    const auto answer = c.Post("/api/predict", seven, "image/png");
    REQUIRE(answer);
    CHECK(answer->status == 200);
    CHECK(answer->get_header_value("Content-Type") == "application/json");
    CHECK(nlohmann::json::parse(answer->body)["number"] == "7");

    const auto status_of = [&](const httplib::Result& r) { return r ? r->status : -1; };
    CHECK(status_of(c.Get("/api/predict")) == 405);
    CHECK(status_of(c.Post("/", "x", "text/plain")) == 405);
    CHECK(status_of(c.Delete("/api/predict")) == 405);
    CHECK(status_of(c.Get("/etc/passwd")) == 404);
    const auto odd = c.Get("/%FF%FE");
    REQUIRE(odd);
    CHECK(odd->status == 404);
    CHECK(nlohmann::json::parse(odd->body)["error"] == "no such page: '/?\?' (HTTP 404)");
    CHECK(status_of(c.Get("/../../etc/passwd")) >= 400);
    CHECK(status_of(c.Post("/api/predict", "hello", "text/plain")) == 415);
    CHECK(status_of(c.Post("/api/predict", seven.substr(0, 100), "image/png")) == 400);
    // A 100 MB body: refused from its Content-Length, as JSON.
    const std::string huge(std::size_t{100} << 20, '\0');
    const auto too_big = c.Post("/api/predict", huge, "image/png");
    if (too_big) { // httplib may also close the connection before reading it all
        CHECK(too_big->status == 413);
        CHECK_THAT(too_big->body, Contains("\"error\""));
    }
    // A request that never finishes its body is timed out, not waited for forever.
    {
        httplib::Client slow("127.0.0.1", s.server.port());
        slow.set_read_timeout(std::chrono::seconds(1));
        std::size_t sent = 0;
        const auto r = slow.Post(
            "/api/predict", 1000,
            [&](std::size_t, std::size_t, httplib::DataSink& sink) {
                if (sent == 0) {
                    sink.write("\x89PNG", 4);
                    sent = 4;
                }
                return sent < 4; // stops providing: the server waits for the rest in vain
            },
            "image/png");
        CHECK((!r || r->status >= 400));
    }
    // Still serving.
    auto after = s.client();
    const auto again = after.Post("/api/predict", seven, "image/png");
    REQUIRE(again);
    CHECK(again->status == 200);
}

TEST_CASE("the server: a port in use is refused by name, not shared", "[server]") {
    running_server first;
    mnist::serve_options options;
    options.port = first.server.port();
    REQUIRE_THROWS_AS(mnist::digit_server(weights, options), xtnn::io_error);
    REQUIRE_THROWS_WITH(mnist::digit_server(weights, options),
                        Contains("cannot listen on 127.0.0.1:" + std::to_string(options.port)));
    // The refused one left the first serving.
    for (int i = 0; i < 8; ++i) {
        auto c = first.client();
        const auto page = c.Get("/");
        REQUIRE(page);
        CHECK(page->status == 200);
    }
}

TEST_CASE("the server under load: 2,000 requests from 16 clients, all answered right", "[server]") {
    // The answers one model gives one request at a time are the reference.
    auto model = mnist::load_model(weights);
    std::vector<std::string> images;
    std::vector<std::string> expected;
    for (int d = 0; d < 10; ++d) {
        for (const char* extension : {".png", ".jpg"}) {
            images.push_back(read_bytes(samples / ("sample-" + std::to_string(d) + extension)));
            const auto a =
                mnist::answer_predict(model, as_bytes(images.back()),
                                      extension[1] == 'p' ? "image/png" : "image/jpeg", false, {});
            REQUIRE(a.status == 200);
            expected.push_back(nlohmann::json::parse(a.body)["number"].get<std::string>());
        }
    }
    std::size_t labelled = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        labelled += expected[i] == std::to_string(i / 2) ? 1U : 0U;
    }
    CHECK(labelled >= 16); // the model reads most sample scans right

    running_server s({.workers = 4});
    constexpr std::size_t clients = 16, requests = 2000;
    std::atomic<std::size_t> next{0}, right{0};
    std::vector<std::vector<double>> latencies(clients);
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t t = 0; t < clients; ++t) {
        threads.emplace_back([&, t] {
            auto c = s.client();
            c.set_keep_alive(true);
            for (std::size_t i = next++; i < requests; i = next++) {
                const std::size_t k = i % images.size();
                const auto t0 = std::chrono::steady_clock::now();
                const auto r =
                    c.Post("/api/predict", images[k], k % 2 == 0 ? "image/png" : "image/jpeg");
                const auto t1 = std::chrono::steady_clock::now();
                latencies[t].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
                if (r && r->status == 200 &&
                    nlohmann::json::parse(r->body)["number"] == expected[k]) {
                    ++right;
                } else {
                    const std::lock_guard lock(failures_mutex);
                    failures.push_back("request " + std::to_string(i) + " (image " +
                                       std::to_string(k) + "): " +
                                       (r ? "HTTP " + std::to_string(r->status) + " " + r->body
                                          : "no answer: " + httplib::to_string(r.error())));
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<double> all;
    for (const auto& l : latencies) {
        all.insert(all.end(), l.begin(), l.end());
    }
    std::sort(all.begin(), all.end());
    REQUIRE(all.size() == requests);
    std::printf("load: %zu requests from %zu clients, 4 workers, in %.2f s (%.0f requests/s); "
                "latency p50 %.1f ms, p99 %.1f ms\n",
                requests, clients, seconds, static_cast<double>(requests) / seconds,
                all[all.size() / 2], all[all.size() * 99 / 100]);
    for (const auto& f : failures) {
        UNSCOPED_INFO(f);
    }
    CHECK(right == requests);
}

TEST_CASE("the server under attack: 500 connections trickling their heads hold no worker",
          "[server]") {
    // 500 connections of the attack and the server's 500 ends of them.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &files) == 0);
    REQUIRE(files.rlim_cur >= 1200);

    running_server s({.workers = 2, .connections = 8, .head_timeout = std::chrono::seconds(3)});
    const auto seven = read_bytes(samples / "sample-7.png");
    std::vector<raw_connection> attack;
    for (int i = 0; i < 500; ++i) {
        attack.emplace_back(s.server.port());
        CHECK(attack.back().send("POST /api/predict HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    }
    // While they trickle a byte each every 100 ms, good requests are answered at once.
    std::atomic<bool> trickling{true};
    std::thread trickle([&] {
        while (trickling) {
            for (const auto& c : attack) {
                (void)c.send("a");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    });
    double slowest = 0;
    for (int i = 0; i < 10; ++i) {
        auto c = s.client();
        const auto t0 = std::chrono::steady_clock::now();
        const auto page = c.Get("/");
        const auto r = c.Post("/api/predict", seven, "image/png");
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        slowest = std::max(slowest, seconds);
        REQUIRE(page);
        CHECK(page->status == 200);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    INFO("the slowest good page and answer took " << slowest << " s");
    CHECK(slowest < 1.0);
    trickling = false;
    trickle.join();
    // A head that does not arrive within head_timeout is answered 408 and closed.
    const auto late = attack.front().answer();
    CHECK_THAT(late, Contains("HTTP/1.1 408") && Contains("did not arrive within 3 s"));
}

TEST_CASE("the server under attack: heads, chunked and compressed bodies within their limits",
          "[server]") {
    running_server s({.max_body_bytes = std::size_t{1} << 20});
    const double baseline = resident_mib();
    SECTION("200 MB of headers: refused at 16 KiB, and the memory goes back") {
        raw_connection c(s.server.port());
        c.send("GET / HTTP/1.1\r\nHost: x\r\n");
        const std::string header = "X-Pad: " + std::string(1000, 'p') + "\r\n";
        std::size_t sent = 0;
        while (sent < (std::size_t{200} << 20) && c.send(header)) {
            sent += header.size();
        }
        CHECK(sent < (std::size_t{32} << 20)); // the server closed long before 200 MB
        CHECK_THAT(c.answer(), Contains("HTTP/1.1 431") && Contains("larger than 16384 bytes"));
    }
    SECTION("more than 100 headers: refused") {
        raw_connection c(s.server.port());
        std::string head = "GET / HTTP/1.1\r\n";
        for (int i = 0; i < 150; ++i) {
            head += "X-" + std::to_string(i) + ": 1\r\n";
        }
        c.send(head + "\r\n");
        CHECK_THAT(c.answer(), Contains("HTTP/1.1 431") && Contains("more than 100 headers"));
    }
    SECTION("a chunked body over the limit: counted as it arrives, refused with 413") {
        raw_connection c(s.server.port());
        c.send("POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
        const std::string chunk = "10000\r\n" + std::string(0x10000, 'z') + "\r\n";
        std::size_t sent = 0;
        while (sent < (std::size_t{400} << 20) && c.send(chunk)) {
            sent += chunk.size();
        }
        CHECK(sent < (std::size_t{64} << 20)); // not read whole
        const auto answer = c.answer();
        if (!answer.empty()) { // the client's unread data may reset the connection first
            CHECK_THAT(answer, Contains("413") && Contains("larger than 1048576 bytes"));
        }
    }
    SECTION("a compressed body: refused before it is read, 415") {
        raw_connection c(s.server.port());
        c.send("POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
               "Content-Encoding: gzip\r\nContent-Length: 1000000\r\n\r\n");
        CHECK_THAT(c.answer(), Contains("HTTP/1.1 415") &&
                                   Contains("compressed request bodies are not accepted") &&
                                   Contains("'gzip'"));
    }
    SECTION("a small chunked image is read and answered") {
        const auto seven = read_bytes(samples / "sample-7.png");
        raw_connection c(s.server.port());
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", seven.size());
        c.send("POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" +
               std::string(size) + seven + "\r\n0\r\n\r\n");
        CHECK_THAT(c.answer(), Contains("HTTP/1.1 200") && Contains("\"number\":\"7\""));
    }
    // Still serving, and the memory is back near where it was.
    auto after = s.client();
    const auto page = after.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    INFO("resident memory " << baseline << " MiB before, " << resident_mib() << " MiB after");
    CHECK(resident_mib() < baseline + 32);
}
