// The draw-a-digit page: an HTTP server (cpp-httplib) with one page and one API,
//   GET  /              the page: draw a digit, or upload a photo of a digit or a number
//   POST /api/predict   image bytes (image/png or image/jpeg) -> JSON reading
// safe by default: loopback only unless told otherwise, size limits, timeouts, JSON errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "digit_image.hpp"
#include "recognizer.hpp"

namespace mnist {

/// How the server listens and what it accepts.
struct serve_options {
    std::string host = "127.0.0.1"; ///< Loopback: only this machine (0.0.0.0: every network).
    int port = 8000;                ///< 0: any free port (port() tells which).
    std::size_t workers = 4;        ///< Models, one per request being read at a time (cores, say).
    /// Requests served at once, once their heads arrived: a thread each; a request waits for a
    /// free model.
    std::size_t connections = 64;
    /// A request's body, counted as it arrives (with a Content-Length or chunked); larger: 413.
    /// Compressed bodies (Content-Encoding) are refused: 415.
    std::size_t max_body_bytes = std::size_t{8} << 20;
    /// Images: at most 16 megapixels (a phone's photo), and the body's bytes.
    image_limits image{.max_file_bytes = std::size_t{8} << 20, .max_pixels = 16'000'000};
    std::chrono::seconds timeout{10}; ///< Reading a whole request, writing an answer.
    /// A request's head (request line and headers) arrives on one thread that waits for every
    /// connection at once, so slow clients hold no worker. It must arrive whole within this
    /// time (else 408) …
    std::chrono::seconds head_timeout{5};
    std::size_t max_head_bytes = 16 * 1024; ///< … in at most this many bytes (else 431) …
    std::size_t max_headers = 100;          ///< … with at most this many headers (else 431).
    /// Connections whose head is still arriving; beyond it the oldest is dropped.
    std::size_t max_pending = 4096;
};

/// An HTTP answer: status and JSON body.
struct api_answer {
    int status = 200;
    std::string body;
};

/// The answer of POST /api/predict for a request body of `content_type`, read by `model`:
/// 200 and `{"digit": 7, "probabilities": [...], "number": "7", "digits": [{"digit": 7,
/// "confidence": 0.99, "box": [x, y, w, h], "probabilities": [...]}, ...], "input": [784
/// values of the first digit's 28 × 28 input]}`, `digit` and `probabilities` being the first
/// (leftmost) digit's; 415 for another content type, 400 for a damaged or unreadable image or
/// one over the pixel limit, 413 for a body over the byte limit, 422 for an image without
/// digits (with "reason"). Errors are `{"error": "..."}`. With `single`, all the ink is one
/// digit (a drawing pad).
api_answer answer_predict(any_model& model, std::span<const std::uint8_t> body,
                          std::string_view content_type, bool single, const image_limits& limits);

/// The server: a model per worker, lent to one request at a time, loaded from the weight file.
class digit_server {
  public:
    /// Loads `workers` copies of the model of `weights` and binds host:port.
    /// @throws xtnn::io_error for an unreadable weight file or a port that cannot be bound.
    digit_server(const std::filesystem::path& weights, const serve_options& options);
    ~digit_server();
    digit_server(const digit_server&) = delete;
    digit_server& operator=(const digit_server&) = delete;

    /// The port it listens on.
    int port() const;
    /// Serves until stop() (from another thread or a signal handler's thread).
    void run();
    /// Stops run(): it returns after the requests in flight are answered.
    void stop();

  private:
    struct state;
    std::unique_ptr<state> state_;
};

/// The page, self-contained (no network: the script and styles are inline).
std::string_view page_html();

} // namespace mnist
