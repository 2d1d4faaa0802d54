/// @file
/// Files read as bytes whether they are plain or gzip-compressed (zlib), and the handle that
/// writes them: the compression layer under the IDX reader and writer.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>
#include <zlib.h>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/files.hpp>

namespace xtnn::detail {

/// The most bytes deflate can make of one compressed byte (zlib's documented limit is 1032:1;
/// the gzip framing only lowers it): a gzip file of n bytes inflates to at most this times n.
inline constexpr std::uint64_t max_inflation = 1032;

/// Closes a zlib gzFile (the writer's handle).
struct gz_closer {
    void operator()(gzFile_s* file) const { gzclose(file); }
};
/// A gzFile that closes itself.
using gz_handle = std::unique_ptr<gzFile_s, gz_closer>;

/// Closes a C file.
struct file_closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
/// A C file that closes itself.
using file_handle = std::unique_ptr<std::FILE, file_closer>;

/// A regular file read front to back as bytes: plain, or gzip-compressed (told apart by the
/// gzip magic number, not the name) and inflated as it is read, one or more members (as
/// `cat a.gz b.gz` makes). Compressed data goes through zlib's inflate directly, so that the
/// end of the gzip stream is seen: bytes after it are an error unless they start another
/// member. Errors are io_error prefixed with `where` ("read_idx: 'x.idx.gz'").
class gzip_reader {
  public:
    /// Opens `path`, which must be a regular file.
    /// @throws io_error if it is missing, not a regular file or unreadable.
    gzip_reader(const std::filesystem::path& path, std::string where) : where_(std::move(where)) {
        require_regular_file(path, where_);
        file_.reset(std::fopen(path.c_str(), "rb"));
        if (!file_) {
            fail(std::string("cannot open the file: ") + std::strerror(errno));
        }
        std::error_code error;
        file_size_ = static_cast<std::uint64_t>(std::filesystem::file_size(path, error));
        if (error) {
            fail("cannot read the file size: " + error.message());
        }
        unsigned char magic[2] = {0, 0};
        const std::size_t got = std::fread(magic, 1, 2, file_.get());
        compressed_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        if (std::fseek(file_.get(), 0, SEEK_SET) != 0) {
            fail(std::string("cannot read the file: ") + std::strerror(errno));
        }
        if (compressed_) {
            input_.resize(std::size_t{1} << 17);
            if (inflateInit2(&inflater_.stream, 16 + MAX_WBITS) != Z_OK) {
                fail("cannot start zlib");
            }
            inflater_.started = true;
        }
    }

    /// Whether the file is gzip-compressed.
    bool compressed() const { return compressed_; }
    /// The file's size on disk, in bytes.
    std::uint64_t file_size() const { return file_size_; }
    /// The most bytes the whole file can give: its size, or for a compressed file its size
    /// times max_inflation.
    std::uint64_t max_bytes() const {
        return compressed_ ? file_size_ * max_inflation : file_size_;
    }

    /// Reads up to `size` bytes (inflated if need be); fewer only at the end of the data.
    /// @throws io_error for a read error, corrupt compressed data or data after the end of
    /// the gzip stream that does not start another member.
    std::size_t read(void* out, std::size_t size) {
        return compressed_ ? inflate_into(static_cast<unsigned char*>(out), size)
                           : read_raw(out, size);
    }

    /// For a compressed file, after read() gave fewer bytes than asked: whether the gzip
    /// stream itself was cut short (rather than complete but holding less data).
    bool stream_cut_short() const { return compressed_ && ended_early_ && !stream_ended_; }

    /// Requires the end of the data: nothing more to read and, for a compressed file, the
    /// gzip stream complete. `expected` says what the data held ("the 784 bytes that
    /// dimensions (1, 28, 28) need").
    /// @throws io_error naming what follows or that the stream does not end.
    void expect_end(const std::string& expected) {
        char extra[64];
        if (read(extra, sizeof extra) != 0) {
            fail("unexpected data after " + expected);
        }
        if (compressed_ && !stream_ended_) {
            fail("truncated compressed stream (zlib: the gzip stream does not end)");
        }
    }

    /// Throws io_error `where: what`.
    [[noreturn]] void fail(const std::string& what) const { throw io_error(where_ + ": " + what); }

  private:
    std::size_t read_raw(void* out, std::size_t size) {
        const std::size_t got = std::fread(out, 1, size, file_.get());
        if (got < size && std::ferror(file_.get()) != 0) {
            fail(std::string("cannot read the file: ") + std::strerror(errno));
        }
        return got;
    }

    /// Refills the input buffer; false at the end of the file.
    bool refill() {
        if (stream_.avail_in > 0) {
            return true;
        }
        const std::size_t got = read_raw(input_.data(), input_.size());
        stream_.next_in = input_.data();
        stream_.avail_in = static_cast<uInt>(got);
        return got > 0;
    }

    std::size_t inflate_into(unsigned char* out, std::size_t size) {
        std::size_t total = 0;
        while (total < size) {
            if (stream_ended_) {
                // Another gzip member may follow; anything else is data the file should not
                // hold.
                if (!refill()) {
                    break;
                }
                if (stream_.avail_in < 2 && !more_input_starts_member()) {
                    trailing();
                }
                if (stream_.next_in[0] != 0x1f || stream_.next_in[1] != 0x8b) {
                    trailing();
                }
                inflateReset(&stream_);
                stream_ended_ = false;
            }
            if (!refill()) {
                ended_early_ = true;
                break;
            }
            const std::size_t want = std::min<std::size_t>(size - total, 1u << 30);
            stream_.next_out = out + total;
            stream_.avail_out = static_cast<uInt>(want);
            const int code = inflate(&stream_, Z_NO_FLUSH);
            total += want - stream_.avail_out;
            if (code == Z_STREAM_END) {
                stream_ended_ = true;
            } else if (code != Z_OK && code != Z_BUF_ERROR) {
                fail(std::string("corrupt compressed data (zlib: ") +
                     (stream_.msg != nullptr ? stream_.msg : zError(code)) + ")");
            }
        }
        return total;
    }

    /// With one byte of input left after a gzip member, reads the next so that the two bytes
    /// of a gzip magic number can be compared.
    bool more_input_starts_member() {
        unsigned char pair[2] = {*stream_.next_in, 0};
        if (read_raw(pair + 1, 1) != 1) {
            return false;
        }
        input_[0] = pair[0];
        input_[1] = pair[1];
        stream_.next_in = input_.data();
        stream_.avail_in = 2;
        return true;
    }

    [[noreturn]] void trailing() const { fail("unexpected data after the end of the gzip stream"); }

    std::string where_;
    file_handle file_;
    // A member of its own, so that zlib's state is freed when the constructor throws too.
    struct inflater {
        z_stream stream{};
        bool started = false;
        inflater() = default;
        inflater(const inflater&) = delete;
        inflater& operator=(const inflater&) = delete;
        ~inflater() {
            if (started) {
                inflateEnd(&stream);
            }
        }
    };
    inflater inflater_;
    z_stream& stream_ = inflater_.stream;
    std::vector<unsigned char> input_;
    std::uint64_t file_size_ = 0;
    bool compressed_ = false;
    bool stream_ended_ = false;
    bool ended_early_ = false;
};

} // namespace xtnn::detail
