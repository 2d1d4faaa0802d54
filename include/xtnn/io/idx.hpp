/// @file
/// IDX files, the format of MNIST: read_idx / write_idx, plain or gzip-compressed.
#pragma once

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <xtensor/xtensor.hpp>

#include <xtnn/core/errors.hpp>
#include <xtnn/core/files.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/core/tensor_traits.hpp>
#include <xtnn/io/gzip.hpp>

namespace xtnn {

/// The element types an IDX file can hold, with their codes in the file's magic number.
/// @ingroup io
enum class idx_type : std::uint8_t {
    u8 = 0x08,  ///< unsigned byte (MNIST's images and labels)
    i8 = 0x09,  ///< signed byte
    i16 = 0x0B, ///< 16-bit signed integer, big-endian
    i32 = 0x0C, ///< 32-bit signed integer, big-endian
    f32 = 0x0D, ///< 32-bit float, big-endian
    f64 = 0x0E  ///< 64-bit float, big-endian
};

/// The C++ types that map to an idx_type: std::uint8_t, std::int8_t, std::int16_t,
/// std::int32_t, float and double.
/// @ingroup io
template <class T>
concept idx_element = std::same_as<T, std::uint8_t> || std::same_as<T, std::int8_t> ||
                      std::same_as<T, std::int16_t> || std::same_as<T, std::int32_t> ||
                      (std::same_as<T, float> && sizeof(float) == 4) ||
                      (std::same_as<T, double> && sizeof(double) == 8);

/// What an IDX file's header says.
/// @ingroup io
struct idx_header {
    idx_type type = idx_type::u8;   ///< The element type.
    std::vector<std::size_t> shape; ///< The extents, outermost first, e.g. (60000, 28, 28).
};

namespace detail {

template <idx_element T>
constexpr idx_type idx_type_of() {
    if constexpr (std::same_as<T, std::uint8_t>) {
        return idx_type::u8;
    } else if constexpr (std::same_as<T, std::int8_t>) {
        return idx_type::i8;
    } else if constexpr (std::same_as<T, std::int16_t>) {
        return idx_type::i16;
    } else if constexpr (std::same_as<T, std::int32_t>) {
        return idx_type::i32;
    } else if constexpr (std::same_as<T, float>) {
        return idx_type::f32;
    } else {
        return idx_type::f64;
    }
}

/// "unsigned byte (0x08)", or "unknown (0x42)" for a code that is no idx_type.
inline std::string idx_type_name(unsigned code) {
    const char* name = "unknown";
    switch (code) {
    case 0x08:
        name = "unsigned byte";
        break;
    case 0x09:
        name = "signed byte";
        break;
    case 0x0B:
        name = "int16";
        break;
    case 0x0C:
        name = "int32";
        break;
    case 0x0D:
        name = "float32";
        break;
    case 0x0E:
        name = "float64";
        break;
    default:
        break;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", code);
    return std::string(name) + " (" + hex + ")";
}

inline std::size_t idx_element_size(idx_type type) {
    switch (type) {
    case idx_type::i16:
        return 2;
    case idx_type::i32:
    case idx_type::f32:
        return 4;
    case idx_type::f64:
        return 8;
    default:
        return 1;
    }
}

/// An IDX file open for reading, plain or gzip (see gzip_reader), with its header read.
class idx_reader {
  public:
    idx_reader(const std::filesystem::path& path, const std::string& function)
        : source_(path, function + ": '" + path.string() + "'") {
        read_header();
    }

    const idx_header& header() const { return header_; }
    bool compressed() const { return source_.compressed(); }
    [[noreturn]] void fail(const std::string& what) const { source_.fail(what); }

    /// Checks, before anything is allocated, that the file can hold the data its dimensions
    /// need: a plain file exactly (its size), a compressed one within what deflate can make of
    /// its size (see max_inflation), so a header that overstates its data is refused before it
    /// costs memory.
    void check_length() const {
        const std::uint64_t most = source_.max_bytes();
        const std::uint64_t available = most > header_bytes_ ? most - header_bytes_ : 0;
        if (!source_.compressed()) {
            if (available < payload_bytes_) {
                truncated(available);
            }
            if (available > payload_bytes_) {
                fail(std::to_string(available - payload_bytes_) +
                     " bytes of unexpected data after the " + std::to_string(payload_bytes_) +
                     " bytes that dimensions " + format_shape(header_.shape) + " need");
            }
        } else if (available < payload_bytes_) {
            fail(need() + ", a compressed file of " + std::to_string(source_.file_size()) +
                 " bytes holds at most " + std::to_string(available));
        }
    }

    /// Reads exactly the data into `out` (of at least payload bytes, checked with
    /// check_length() first) and checks that nothing follows. Memory `out` points to is
    /// written only as data arrives, so a fresh allocation costs only the data the file holds.
    void read_payload_into(void* out) {
        const std::size_t got = source_.read(out, payload_bytes_);
        if (got != payload_bytes_) {
            truncated(got);
        }
        source_.expect_end("the " + std::to_string(payload_bytes_) + " bytes that dimensions " +
                           format_shape(header_.shape) + " need");
    }

  private:
    void read_header() {
        unsigned char magic[4];
        const std::size_t got = source_.read(magic, 4);
        if (got < 4) {
            fail("truncated header; expected 4 bytes of magic number, got " + std::to_string(got));
        }
        if (magic[0] != 0 || magic[1] != 0) {
            fail("not an IDX file (bad magic number; the first two bytes must be zero)");
        }
        const unsigned code = magic[2];
        if (code != 0x08 && code != 0x09 && code != 0x0B && code != 0x0C && code != 0x0D &&
            code != 0x0E) {
            fail("not an IDX file (unknown element type " + idx_type_name(code) + ")");
        }
        header_.type = static_cast<idx_type>(code);
        const std::size_t rank = magic[3];
        std::vector<unsigned char> extents(4 * rank);
        if (source_.read(extents.data(), extents.size()) != extents.size()) {
            fail("truncated header; expected " + std::to_string(rank) + " dimensions");
        }
        // Every extent counts, even after a zero one: a tensor of (0, 2^32-1, 2^32-1) has
        // strides that overflow. The product of the non-zero extents, in bytes, must fit in a
        // signed offset.
        const std::size_t element = idx_element_size(header_.type);
        const auto limit = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
        std::size_t count = 1;
        std::size_t nonzero = element;
        bool overflow = false;
        for (std::size_t i = 0; i < rank; ++i) {
            const std::size_t extent = std::size_t{extents[4 * i]} << 24 |
                                       std::size_t{extents[4 * i + 1]} << 16 |
                                       std::size_t{extents[4 * i + 2]} << 8 | extents[4 * i + 3];
            header_.shape.push_back(extent);
            if (extent != 0) {
                overflow = overflow || nonzero > limit / extent;
                nonzero = overflow ? nonzero : nonzero * extent;
            }
            count = extent == 0 || overflow ? 0 : count * extent;
        }
        if (overflow) {
            fail("dimensions " + format_shape(header_.shape) + " are too large");
        }
        payload_bytes_ = count * element;
        header_bytes_ = 4 + 4 * rank;
    }

    std::string need() const {
        return "truncated; dimensions " + format_shape(header_.shape) + " of " +
               idx_type_name(static_cast<unsigned>(header_.type)) + " need " +
               std::to_string(payload_bytes_) + " bytes of data";
    }

    [[noreturn]] void truncated(std::uint64_t got) const {
        fail(need() + ", the " +
             (!source_.compressed()        ? "file holds "
              : source_.stream_cut_short() ? "truncated compressed stream holds "
                                           : "compressed stream holds ") +
             std::to_string(got));
    }

    gzip_reader source_;
    idx_header header_;
    std::size_t payload_bytes_ = 0;
    std::size_t header_bytes_ = 0;
};

/// Converts `count` big-endian elements in place to the host's byte order.
template <class T>
void idx_to_host_order(T* data, std::size_t count) {
    if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) {
        auto* bytes = reinterpret_cast<unsigned char*>(data);
        for (std::size_t i = 0; i < count; ++i) {
            std::reverse(bytes + i * sizeof(T), bytes + (i + 1) * sizeof(T));
        }
    }
}

} // namespace detail

/// Reads only the header of an IDX file (plain or gzip): its element type and shape.
/// @throws io_error naming the file: missing, unreadable, bad magic number, unknown element
/// type, truncated header.
/// @ingroup io
inline idx_header read_idx_header(const std::filesystem::path& path) {
    return detail::idx_reader(path, "read_idx_header").header();
}

/// Reads an IDX file, plain or gzip-compressed (detected from its content, not its name),
/// into a tensor of rank `N` whose element type `T` must be the file's.
///
/// Everything is checked before the data is trusted: the magic number, the element type, the
/// rank, and the dimensions against the data actually present. A plain file's length is
/// compared with its dimensions before any allocation; a compressed one's with the most that
/// deflate can make of its size (1032 bytes per byte), and it is inflated straight into the
/// tensor, whose memory is touched only as data arrives: a header that overstates its data
/// costs no more than the data. Extra bytes after the data are an error too.
/// @throws io_error naming the file and the problem, e.g. `read_idx: 'x.idx': truncated;
/// dimensions (100, 28, 28) of unsigned byte (0x08) need 78400 bytes of data, the file holds
/// 1000`.
/// @code
/// auto images = xtnn::read_idx<std::uint8_t, 3>("train-images-idx3-ubyte.gz"); // (N, 28, 28)
/// @endcode
/// @ingroup io
template <idx_element T, std::size_t N>
tensor<T, N> read_idx(const std::filesystem::path& path) {
    detail::idx_reader reader(path, "read_idx");
    const idx_header& header = reader.header();
    if (header.type != detail::idx_type_of<T>()) {
        reader.fail("element type mismatch; expected " +
                    detail::idx_type_name(static_cast<unsigned>(detail::idx_type_of<T>())) +
                    ", got " + detail::idx_type_name(static_cast<unsigned>(header.type)));
    }
    if (header.shape.size() != N) {
        reader.fail("rank mismatch; expected " + std::to_string(N) + " dimensions, got " +
                    std::to_string(header.shape.size()) + " " + format_shape(header.shape));
    }
    shape<N> extents{};
    std::copy(header.shape.begin(), header.shape.end(), extents.begin());
    reader.check_length();
    tensor<T, N> result(extents); // uninitialized: its pages cost memory as data arrives
    reader.read_payload_into(result.data());
    detail::idx_to_host_order(result.data(), result.size());
    return result;
}

namespace detail {

/// write_idx for a tensor of an IDX element type.
template <idx_element T, std::size_t N>
void write_idx_tensor(const std::filesystem::path& path, const tensor<T, N>& array) {
    static_assert(N >= 1 && N <= 255, "xtnn: an IDX file holds 1 to 255 dimensions");
    const std::string where = "write_idx: '" + path.string() + "'";
    std::string header{'\0', '\0', static_cast<char>(detail::idx_type_of<T>()),
                       static_cast<char>(N)};
    for (const std::size_t extent : array.shape()) {
        if (extent > std::numeric_limits<std::uint32_t>::max()) {
            throw shape_error(where + ": extent " + std::to_string(extent) + " of shape " +
                              format_shape(array.shape()) + " does not fit in 32 bits");
        }
        for (int shift = 24; shift >= 0; shift -= 8) {
            header += static_cast<char>((extent >> shift) & 0xFF);
        }
    }
    const bool compress = path.extension() == ".gz";
    const std::filesystem::path target = detail::write_target(path, where);
    const std::filesystem::path temporary = detail::temporary_sibling(target);
    detail::gz_handle file(gzopen(temporary.c_str(), compress ? "wb9" : "wbT"));
    if (!file) {
        throw io_error(where + ": cannot create '" + temporary.string() + "'");
    }
    const auto write = [&](const void* data, std::size_t size) {
        const auto* bytes = static_cast<const char*>(data);
        while (size > 0) {
            const auto chunk = static_cast<unsigned>(std::min<std::size_t>(size, 1u << 30));
            if (gzwrite(file.get(), bytes, chunk) != static_cast<int>(chunk)) {
                return false;
            }
            bytes += chunk;
            size -= chunk;
        }
        return true;
    };
    bool ok = write(header.data(), header.size());
    if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) {
        std::vector<T> block;
        constexpr std::size_t block_size = std::size_t{1} << 16;
        for (std::size_t i = 0; ok && i < array.size(); i += block_size) {
            const std::size_t n = std::min(block_size, array.size() - i);
            block.assign(array.data() + i, array.data() + i + n);
            detail::idx_to_host_order(block.data(), n); // the swap is its own inverse
            ok = write(block.data(), n * sizeof(T));
        }
    } else {
        ok = ok && write(array.data(), array.size() * sizeof(T));
    }
    ok = gzclose(file.release()) == Z_OK && ok;
    if (!ok) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw io_error(where + ": cannot write the file (disk full?)");
    }
    detail::replace_file(temporary, target, where);
}

} // namespace detail

/// Writes a tensor as an IDX file; gzip-compressed when the name ends in ".gz".
///
/// The element type gives the file's type (see idx_element); every extent must fit in 32 bits
/// and the rank in one byte, as the format requires. The file is written under a temporary
/// name and renamed into place, so a failed write never destroys a previous file.
/// @throws io_error naming the file if it cannot be written; shape_error for an extent the
/// format cannot hold.
/// @code
/// xtnn::write_idx("labels-idx1-ubyte.gz", labels); // tensor<std::uint8_t, 1>
/// @endcode
/// @ingroup io
template <idx_element T, std::size_t N>
void write_idx(const std::filesystem::path& path, const tensor<T, N>& array) {
    detail::write_idx_tensor(path, array);
}

/// @cond XTNN_DETAIL
// Any other type: one sentence saying what write_idx takes.
template <class Array>
requires(!any_tensor<Array> || !idx_element<element_of<Array>>) detail::rejected
    write_idx(const std::filesystem::path&, const Array&) {
    static_assert(any_tensor<Array>, "xtnn: write_idx: takes an xtnn::tensor (an xt::xtensor of "
                                     "fixed rank); evaluate views and expressions into one");
    static_assert(!any_tensor<Array> || idx_element<element_of<Array>>,
                  "xtnn: write_idx: an IDX file holds std::uint8_t, std::int8_t, std::int16_t, "
                  "std::int32_t, float or double elements");
    return {};
}
/// @endcond

} // namespace xtnn
