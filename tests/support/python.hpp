// Running Debian's Python (/usr/bin/python3, which sees python3-numpy and python3-torch) from
// interop tests.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace xtnn::test {

/// Whether /usr/bin/python3 can import `modules` (e.g. "numpy" or "torch, numpy").
inline bool python_has(const std::string& modules) {
    return std::system(("/usr/bin/python3 -c 'import " + modules + "' 2>/dev/null").c_str()) == 0;
}

/// Whether a test that needs `modules` can run. Where /usr/bin/python3 lacks them the test is
/// skipped with a warning naming `package`, except in CI (CI=true, as .ci/run runs): there
/// nothing may be skipped, so a missing module fails the test.
inline bool python_ready(const std::string& modules, const std::string& package) {
    if (python_has(modules)) {
        return true;
    }
    const char* ci = std::getenv("CI");
    const std::string message =
        "/usr/bin/python3 cannot import " + modules + " (Debian's " + package + ")";
    if (ci != nullptr && std::string(ci) == "true") {
        FAIL("CI must run every test, but " + message);
    }
    WARN("skipped: " + message);
    return false;
}

/// Runs a one-line Python script (no double quotes inside) and returns what it printed;
/// fails the test if Python fails.
inline std::string run_python(const std::string& script) {
    std::string output;
    FILE* pipe = popen(("/usr/bin/python3 -c \"" + script + "\"").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    REQUIRE(pclose(pipe) == 0);
    return output;
}

/// The numbers a script printed, whitespace-separated, in order.
template <class T = double>
std::vector<T> parse_numbers(const std::string& text) {
    std::istringstream in(text);
    std::vector<T> values;
    T v;
    while (in >> v) {
        values.push_back(v);
    }
    return values;
}

} // namespace xtnn::test
