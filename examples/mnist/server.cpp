#include "server.hpp"

#include <condition_variable>
#include <cstdio>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
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
    httplib::Server server;
    serve_options options;
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
    const std::size_t threads = std::max(workers, options.connections);
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
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
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
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
    state_->server.listen_after_bind();
}

void digit_server::stop() {
    state_->server.stop();
}

} // namespace mnist
