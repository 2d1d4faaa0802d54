/// @file
/// Weight files: save_weights / load_weights in NumPy's .npz format with PyTorch's names.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <ranges>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>
#include <zip.h>

#include <xtnn/core/description.hpp>
#include <xtnn/core/errors.hpp>
#include <xtnn/core/files.hpp>
#include <xtnn/core/parameter.hpp>
#include <xtnn/core/tensor.hpp>
#include <xtnn/io/architecture.hpp>
#include <xtnn/io/npy.hpp>

namespace xtnn {

/// @defgroup io Files
/// Reading and writing weights and datasets.

/// Options of load_weights().
/// @ingroup io
struct load_options {
    /// Every parameter must be in the file and every array in the file must be a parameter.
    /// With false, missing parameters keep their values and unknown arrays are ignored (shapes
    /// and types of the arrays that match a name are still checked), and the architecture is
    /// not compared: a partial load is into another model by design.
    bool strict = true;
    /// Compare the model with the architecture the file records, if it records one
    /// (save_weights() does): a model of another architecture is refused even where every
    /// shape matches. With false, or for a file without a record (written by NumPy or
    /// PyTorch), only names, element types and shapes are checked.
    bool check_architecture = true;
};

namespace detail {

/// Anything with `parameters()` returning views: a layer or a model.
template <class M>
concept has_parameter_views = requires(M& m) {
    { m.parameters() } -> std::ranges::range;
    typename std::ranges::range_value_t<decltype(m.parameters())>;
};

struct zip_closer {
    void operator()(zip_t* z) const { zip_discard(z); }
};
using zip_handle = std::unique_ptr<zip_t, zip_closer>;

struct zip_file_closer {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using zip_file_handle = std::unique_ptr<zip_file_t, zip_file_closer>;

inline std::string zip_error_text(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

inline std::string npz_where(std::string_view function, const std::filesystem::path& path) {
    return std::string(function) + ": '" + path.string() + "'";
}

/// Reads exactly `size` bytes from an archive member; false if it ends sooner.
/// Reads `size` bytes; false if the entry ends first. A read error (a CRC mismatch, corrupt
/// compressed data) throws io_error `where: libzip's reason`.
inline bool read_exactly(zip_file_t* file, void* out, std::size_t size, const std::string& where) {
    auto* bytes = static_cast<char*>(out);
    while (size > 0) {
        const zip_int64_t got = zip_fread(file, bytes, size);
        if (got < 0) {
            throw io_error(where + ": damaged data (" + zip_file_strerror(file) + ")");
        }
        if (got == 0) {
            return false;
        }
        bytes += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

/// One array of a weight file: its name, .npy type, shape and memory (a parameter or buffer).
struct npz_entry {
    std::string name;
    std::string descr;
    std::vector<std::size_t> shape;
    std::span<std::byte> bytes;
};

template <std::floating_point T>
std::vector<npz_entry> npz_entries(std::span<const parameter_view<T>> params,
                                   std::span<const buffer_view<T>> buffers) {
    std::vector<npz_entry> entries;
    entries.reserve(params.size() + buffers.size());
    for (const auto& p : params) {
        entries.push_back({p.name, npy_descr<T>(), p.shape, std::as_writable_bytes(p.value)});
    }
    for (const auto& b : buffers) {
        std::visit(
            [&]<class U>(std::span<U> v) {
                entries.push_back({b.name, npy_descr<U>(), b.shape, std::as_writable_bytes(v)});
            },
            b.value);
    }
    return entries;
}

/// Writes `entries` to an .npz file under a temporary name, then renames it into place, with
/// `architecture` (if any) as the zip archive's comment.
inline void write_npz(std::span<const npz_entry> entries, const std::filesystem::path& path,
                      const model_architecture* architecture = nullptr,
                      std::string_view function = "save_weights") {
    const std::string where = npz_where(function, path);
    if (entries.empty()) {
        throw io_error(where + ": the model has no parameters to save");
    }
    const std::string comment =
        architecture == nullptr ? std::string() : architecture_to_json(*architecture);
    if (comment.size() > 65535) {
        throw io_error(where + ": the model's architecture record takes " +
                       std::to_string(comment.size()) +
                       " bytes, more than a zip comment holds (65,535); save its parameters with "
                       "save_state(), which records none");
    }
    const std::filesystem::path target = write_target(path, where);
    const std::filesystem::path temporary = temporary_sibling(target);

    std::vector<std::string> blobs; // libzip reads them at zip_close
    blobs.reserve(entries.size());
    int code = 0;
    zip_handle archive(zip_open(temporary.c_str(), ZIP_CREATE | ZIP_EXCL, &code));
    if (!archive) {
        throw io_error(where + ": cannot create '" + temporary.string() +
                       "': " + zip_error_text(code));
    }
    try {
        for (const auto& e : entries) {
            std::string blob = npy_prefix(e.descr, e.shape);
            blob.append(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size());
            blobs.push_back(std::move(blob));
            zip_source_t* source =
                zip_source_buffer(archive.get(), blobs.back().data(), blobs.back().size(), 0);
            if (source == nullptr) {
                throw io_error(where + ": " + zip_strerror(archive.get()));
            }
            const zip_int64_t index =
                zip_file_add(archive.get(), (e.name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8);
            if (index < 0) {
                zip_source_free(source);
                throw io_error(where + ": cannot add '" + e.name +
                               "': " + zip_strerror(archive.get()));
            }
            zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(index), ZIP_CM_STORE,
                                     0);
        }
        if (!comment.empty() &&
            zip_set_archive_comment(archive.get(), comment.data(),
                                    static_cast<zip_uint16_t>(comment.size())) != 0) {
            throw io_error(where + ": " + zip_strerror(archive.get()));
        }
        if (zip_close(archive.get()) != 0) {
            throw io_error(where + ": " + zip_strerror(archive.get()));
        }
        archive.release(); // closed
        replace_file(temporary, target, where);
    } catch (...) {
        archive.reset();
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw;
    }
}

/// Reads the .npy header of one archive member.
inline npy_header read_npy_header(zip_file_t* file, const std::string& key_where) {
    std::string prefix(12, '\0');
    if (!read_exactly(file, prefix.data(), 10, key_where)) {
        throw io_error(key_where + ": truncated .npy header");
    }
    try {
        const bool long_header = static_cast<unsigned char>(prefix[6]) >= 2;
        if (long_header && !read_exactly(file, prefix.data() + 10, 2, key_where)) {
            throw io_error("truncated .npy header");
        }
        const std::size_t length =
            npy_prefix_length(std::string_view(prefix.data(), long_header ? 12 : 10));
        const std::size_t fixed = long_header ? 12 : 10;
        if (length > 65536 + fixed) {
            throw io_error("the .npy header claims " + std::to_string(length) + " bytes");
        }
        prefix.resize(length);
        if (!read_exactly(file, prefix.data() + fixed, length - fixed, key_where)) {
            throw io_error("truncated .npy header");
        }
        return parse_npy_prefix(prefix);
    } catch (const io_error& error) {
        throw io_error(key_where + ": " + error.what());
    }
}

/// Reads the .npy header of one archive member and checks it against `e`.
inline void read_npy_header(zip_file_t* file, const npz_entry& e, const std::string& key_where) {
    const npy_header header = read_npy_header(file, key_where);
    if (header.descr != e.descr) {
        throw io_error(mismatch_message(key_where, "element type mismatch", "'" + e.descr + "'",
                                        "'" + header.descr + "'"));
    }
    if (header.fortran_order) {
        throw io_error(key_where + ": Fortran-ordered arrays are not supported; save a "
                                   "C-contiguous array (numpy.ascontiguousarray)");
    }
    if (header.shape != e.shape) {
        throw io_error(mismatch_message(key_where, "shape mismatch", format_shape(e.shape),
                                        format_shape(header.shape)));
    }
}

/// Reads every entry from the .npz file at `path` into its memory, all or nothing: values are
/// staged and copied only once the whole file checked out.
inline zip_handle open_npz(const std::filesystem::path& path, const std::string& where) {
    require_regular_file(path, where);
    int code = 0;
    zip_handle archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!archive) {
        throw io_error(where + ": not a readable .npz (zip) file: " + zip_error_text(code));
    }
    return archive;
}

/// The architecture record in the comment of an open .npz archive, if it has one (another
/// comment is not a record).
/// @throws io_error `where: …` for a damaged record.
template <class Json = nlohmann::ordered_json>
std::optional<model_architecture> npz_architecture(zip_t* archive, const std::string& where) {
    int length = 0;
    const char* comment = zip_get_archive_comment(archive, &length, ZIP_FL_ENC_RAW);
    if (comment == nullptr || length <= 0) {
        return std::nullopt;
    }
    const std::string_view text(comment, static_cast<std::size_t>(length));
    if (!is_architecture_record(text)) {
        return std::nullopt;
    }
    return architecture_from_json<Json>(text, where);
}

/// Refuses an open archive whose architecture record describes another model than `expected`
/// (an archive without a record passes).
/// @throws io_error `where: the file holds another model's weights: …`.
// A template (of nlohmann's JSON type) so that the record's parser is compiled only where
// weights are loaded.
template <class Json = nlohmann::ordered_json>
void require_npz_architecture(zip_t* archive, const model_architecture& expected,
                              const std::string& where) {
    if (const auto recorded = npz_architecture<Json>(archive, where)) {
        if (const auto difference = recorded->first_difference(expected, "the file", "the model")) {
            throw io_error(where + ": the file holds another model's weights: " + *difference +
                           " (load with check_architecture = false to compare only names and "
                           "shapes)");
        }
    }
}

/// Reads `entries` from an open archive: each array's header checked before its data is read,
/// every value assigned only after all of them checked out; with `options.strict`, every key
/// present and none other. `where` begins the errors' messages.
inline void read_npz_arrays(zip_t* archive, std::span<const npz_entry> entries,
                            load_options options, const std::string& where) {
    std::vector<std::vector<std::byte>> staged(entries.size());
    std::set<std::string> used;
    for (std::size_t k = 0; k < entries.size(); ++k) {
        const auto& e = entries[k];
        const std::string member = e.name + ".npy";
        const zip_int64_t index = zip_name_locate(archive, member.c_str(), 0);
        if (index < 0) {
            if (options.strict) {
                throw io_error(where + ": missing key '" + e.name + "' (expected shape " +
                               format_shape(e.shape) + ")");
            }
            continue;
        }
        used.insert(member);
        zip_file_handle file(zip_fopen_index(archive, static_cast<zip_uint64_t>(index), 0));
        if (!file) {
            throw io_error(where + ": key '" + e.name + "': " + zip_strerror(archive));
        }
        const std::string key_where = where + ": key '" + e.name + "'";
        read_npy_header(file.get(), e, key_where);
        staged[k].resize(e.bytes.size());
        if (!read_exactly(file.get(), staged[k].data(), staged[k].size(), key_where)) {
            throw io_error(key_where + ": truncated data; expected " +
                           std::to_string(staged[k].size()) + " bytes");
        }
        char extra = 0;
        if (read_exactly(file.get(), &extra, 1, key_where)) {
            throw io_error(key_where + ": data longer than its shape " + format_shape(e.shape));
        }
    }
    if (options.strict) {
        const zip_int64_t count = zip_get_num_entries(archive, 0);
        for (zip_int64_t i = 0; i < count; ++i) {
            const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
            if (name != nullptr && used.count(name) == 0) {
                std::string key(name);
                if (key.size() > 4 && key.ends_with(".npy")) {
                    key.resize(key.size() - 4);
                }
                throw io_error(where + ": unexpected key '" + key +
                               "' (the model has no such parameter or buffer; load with "
                               "strict = false to ignore it)");
            }
        }
    }
    for (std::size_t k = 0; k < entries.size(); ++k) {
        if (!staged[k].empty()) {
            std::copy(staged[k].begin(), staged[k].end(), entries[k].bytes.begin());
        }
    }
}

/// Reads `entries` from the .npz file at `path` (read_npz_arrays()); `function` names the
/// caller in errors.
inline void read_npz(std::span<const npz_entry> entries, const std::filesystem::path& path,
                     load_options options, std::string_view function) {
    const std::string where = npz_where(function, path);
    const zip_handle archive = open_npz(path, where);
    read_npz_arrays(archive.get(), entries, options, where);
}

/// The scalar type of a model's parameter views.
template <class Model>
using parameter_scalar_t =
    std::remove_cvref_t<decltype(*std::declval<std::ranges::range_value_t<
                                      decltype(std::declval<Model&>().parameters())>>()
                                      .value.data())>;

/// A model whose architecture save_weights() records: a layer or sequential of float or
/// double (each layer described by its own describe() or its name).
template <class Model>
concept recordable_model = requires(const Model& m) {
    { architecture_of(m) } -> std::same_as<model_architecture>;
}
&&(std::same_as<typename Model::value_type, float> ||
   std::same_as<typename Model::value_type, double>);

/// The record of `model`, if it is a recordable_model.
template <class Model>
std::optional<model_architecture> architecture_if_any(const Model& model) {
    if constexpr (recordable_model<Model>) {
        return architecture_of(model);
    } else {
        return std::nullopt;
    }
}

/// A model's buffers, or none if it has no buffers().
template <class Model>
std::vector<buffer_view<parameter_scalar_t<Model>>> buffers_of(Model& model) {
    if constexpr (requires { model.buffers(); }) {
        return model.buffers();
    } else {
        return {};
    }
}

} // namespace detail

/// Writes parameter and buffer views to an .npz file (a zip of .npy arrays), one array per
/// view, named after the view: what save_weights() does for a whole model, and what callbacks
/// use. Buffers keep their element type (an `std::int64_t` counter is saved as int64). With
/// an `architecture` (architecture_of(model)), the file records it as save_weights() does.
///
/// The arrays are stored uncompressed, as numpy.savez does. The file is written under a
/// temporary name in the same directory and renamed into place, so a failed save never
/// destroys a previous file.
/// @throws io_error naming the file if it cannot be written, or if there is nothing to save.
/// @code
/// auto params = model.parameters();
/// auto buffers = model.buffers();
/// xtnn::save_state(std::span(params), std::span(buffers), "weights.npz");
/// @endcode
/// @ingroup io
template <std::floating_point T>
void save_state(std::span<const parameter_view<T>> params, std::span<const buffer_view<T>> buffers,
                const std::filesystem::path& path,
                const std::optional<model_architecture>& architecture = std::nullopt) {
    const auto entries = detail::npz_entries(params, buffers);
    detail::write_npz(entries, path, architecture ? &*architecture : nullptr);
}

/// Writes parameter views alone to an .npz file: save_state() without buffers.
/// @throws io_error naming the file if it cannot be written, or if there is nothing to save.
/// @ingroup io
template <std::floating_point T>
void save_parameters(std::span<const parameter_view<T>> params, const std::filesystem::path& path) {
    save_state(params, std::span<const buffer_view<T>>(), path);
}

/// Writes every parameter and buffer of `model` to an .npz file (a zip of .npy arrays), named
/// as in PyTorch's state dict ("0.weight", "0.bias", "1.running_mean", …) with PyTorch's
/// layouts and element types, and records the model's architecture (architecture_of(): every
/// layer's kind and options, the scalar type, xtnn's version) as JSON in the zip archive's
/// comment, which load_weights() checks and read_architecture() reads.
///
/// The record leaves the file a plain state dict: `numpy.load(path)` reads it (NumPy ignores
/// the comment), and `torch.nn.Sequential(...).load_state_dict({k: torch.from_numpy(v) for
/// k, v in numpy.load(path).items()})` takes it; Python reads the record with
/// `json.loads(zipfile.ZipFile(path).comment)`. The file is written under a temporary name
/// and renamed into place (see save_state()), so a failed save never destroys a previous
/// file.
///
/// @throws io_error naming the file if it cannot be written.
/// @code
/// xtnn::save_weights(model, "mnist_mlp.npz");
/// @endcode
/// @ingroup io
template <detail::has_parameter_views Model>
void save_weights(Model& model, const std::filesystem::path& path) {
    using T = detail::parameter_scalar_t<Model>;
    const auto params = model.parameters();
    const auto buffers = detail::buffers_of(model);
    save_state(std::span<const parameter_view<T>>(params), std::span<const buffer_view<T>>(buffers),
               path, detail::architecture_if_any(model));
}

/// Reads the parameters and buffers of `model` from an .npz file written by save_weights,
/// numpy.savez or numpy.savez_compressed (deflate), e.g. a PyTorch state dict saved with
/// numpy.
///
/// Every array must have the parameter's or buffer's name ("0.weight" in the file as
/// "0.weight.npy"), shape and element type (float32 for a float model, int64 for an integer
/// buffer), in C order. Each array's header is checked before its data is read, and the data
/// is read into memory the size of the model's own tensor, so a file that claims a huge size
/// never causes a huge allocation. Values are assigned only after the whole file checked out,
/// so a failed load leaves the model unchanged.
///
/// A file that records its architecture (save_weights() writes one) must describe this
/// model: a model of another architecture is refused before any array is read, naming the
/// first differing layer and both descriptions, even where every shape matches (`tanh` where
/// the file has `relu`, another dropout rate). `options.check_architecture = false` or
/// `options.strict = false` skip that comparison.
///
/// @throws io_error naming the file and the problem: missing file, not a zip, another
/// architecture, a damaged record, missing or unexpected key (strict), shape or type mismatch
/// with both shapes, truncated data.
/// @code
/// xtnn::load_weights(model, "mnist_mlp.npz");
/// @endcode
/// @ingroup io
template <detail::has_parameter_views Model>
void load_weights(Model& model, const std::filesystem::path& path, load_options options = {}) {
    using T = detail::parameter_scalar_t<Model>;
    const auto params = model.parameters();
    const auto buffers = detail::buffers_of(model);
    const auto entries = detail::npz_entries(std::span<const parameter_view<T>>(params),
                                             std::span<const buffer_view<T>>(buffers));
    const std::string where = detail::npz_where("load_weights", path);
    const detail::zip_handle archive = detail::open_npz(path, where);
    if (options.strict && options.check_architecture) {
        if (const auto expected = detail::architecture_if_any(model)) {
            detail::require_npz_architecture(archive.get(), *expected, where);
        }
    }
    detail::read_npz_arrays(archive.get(), entries, options, where);
}

/// One array of an .npz file: its name (the member's, without ".npy") and its header.
/// @ingroup io
struct npz_array {
    std::string name;  ///< "0.weight" for the member "0.weight.npy".
    npy_header header; ///< Its element type, order and shape.
};

/// The arrays of an .npz file, in the archive's order, read from their headers alone (no data
/// is read): what a program needs to tell which model a weight file belongs to before it
/// builds one.
///
/// @throws io_error naming the file for a missing file, one that is not a zip, a member that
/// is not an .npy array or a damaged header.
/// @code
/// for (const auto& a : xtnn::read_npz_headers("mnist_cnn.npz")) {
///     std::cout << a.name << " " << a.header.descr << " " << xtnn::format_shape(a.header.shape);
/// }
/// @endcode
/// @ingroup io
inline std::vector<npz_array> read_npz_headers(const std::filesystem::path& path) {
    const std::string where = detail::npz_where("read_npz_headers", path);
    const detail::zip_handle archive = detail::open_npz(path, where);
    const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
    std::vector<npz_array> arrays;
    for (zip_int64_t i = 0; i < count; ++i) {
        const auto index = static_cast<zip_uint64_t>(i);
        const char* member = zip_get_name(archive.get(), index, 0);
        std::string name = member == nullptr ? std::string() : std::string(member);
        if (!name.ends_with(".npy")) {
            throw io_error(where + ": member '" + name + "' is not an .npy array");
        }
        name.resize(name.size() - 4);
        const std::string key_where = where + ": key '" + name + "'";
        detail::zip_file_handle file(zip_fopen_index(archive.get(), index, 0));
        if (!file) {
            throw io_error(key_where + ": " + zip_strerror(archive.get()));
        }
        arrays.push_back({name, detail::read_npy_header(file.get(), key_where)});
    }
    return arrays;
}

/// The architecture a weight file records (see save_weights()), read without a model: what a
/// program reads to build the model a file belongs to before loading it. `std::nullopt` for
/// a file without a record (written by NumPy, PyTorch or save_state()).
///
/// @throws io_error naming the file for a missing file, one that is not a zip, or a damaged
/// record.
/// @code
/// if (auto a = xtnn::read_architecture("mnist_cnn.npz")) {
///     std::cout << a->model.to_string() << "\n"; // sequential(conv2d(in_channels=1, …), …)
///     for (const auto& layer : a->model.layers) { … layer.kind, layer.option("out") … }
/// }
/// @endcode
/// @ingroup io
template <class Json = nlohmann::ordered_json> // parsed only in programs that call it
std::optional<model_architecture> read_architecture(const std::filesystem::path& path) {
    const std::string where = detail::npz_where("read_architecture", path);
    const detail::zip_handle archive = detail::open_npz(path, where);
    return detail::npz_architecture<Json>(archive.get(), where);
}

} // namespace xtnn
