/// @file
/// What lets every options-taking type accept `T()`, `T({})` and `T({.name = value})` alike.
#pragma once

#include <initializer_list>

namespace xtnn::detail {

/// The element type of an empty brace list.
///
/// A type with `explicit T(T_options = {})` cannot be called as `T({})` under GCC: `{}` makes
/// both the options and a value-initialized `T` (for the move constructor) and the call is
/// ambiguous. An extra `explicit T(std::initializer_list<use_defaults>)` takes `{}` as an
/// identity conversion, which beats both; no other list can convert to it (the explicit default
/// constructor keeps `{{}}` and `{x}` out), so designated initializers still reach the options.
struct use_defaults {
    explicit use_defaults() = default;
};

/// The brace list `{}` for the constructor that means "the default options".
using empty_braces = std::initializer_list<use_defaults>;

} // namespace xtnn::detail
