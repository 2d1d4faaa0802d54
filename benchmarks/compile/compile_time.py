#!/usr/bin/python3
"""Times what a user waits for when compiling xtnn code: the README's quickstart
(examples/quickstart, the goal: at most 10 s at -O2), the MNIST example's translation units
with their build flags, and what including each part header costs on its own.

    benchmarks/compile/compile_time.py [--build build/bench] [--repetitions 3]

Prints the Markdown section that benchmarks/results.py puts into RESULTS.md. The commands are
the build's own (compile_commands.json), run directly (no ccache), the object written to
/dev/null. The figure is CPU time (user + system of the compiler, the median of the
repetitions): on a shared machine it moves less than wall time, which is shown beside it.
"""

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QUICKSTART = os.path.join(ROOT, "examples", "quickstart", "main.cpp")
MNIST = [os.path.join(ROOT, "examples", "mnist", name)
         for name in ("main.cpp", "recognizer.cpp", "digit_image.cpp", "pictures.cpp")]
PARTS = ["core", "layers", "model", "losses", "optimizers", "metrics", "training", "io", "data",
         "testing"]
GOAL_SECONDS = 10.0


def build_commands(build):
    """{source path: (directory, argv)} from the build's compile_commands.json."""
    import json
    path = os.path.join(build, "compile_commands.json")
    try:
        entries = json.load(open(path))
    except OSError as error:
        raise SystemExit(f"compile_time: {path}: {error.strerror}; configure the build first "
                         "(CMAKE_EXPORT_COMPILE_COMMANDS is on in every preset)")
    commands = {}
    for e in entries:
        argv = e["arguments"] if "arguments" in e else shlex.split(e["command"])
        if os.path.basename(argv[0]) == "ccache":
            argv = argv[1:]
        commands[os.path.realpath(e["file"])] = (e["directory"], argv)
    return commands


def command_for(commands, source):
    try:
        return commands[os.path.realpath(source)]
    except KeyError:
        raise SystemExit(f"compile_time: {source} is not in the build's compile commands "
                         "(examples off?)")


def to_null(argv, source=None):
    """argv writing its object to /dev/null, compiling `source` instead when given."""
    out = list(argv)
    out[out.index("-o") + 1] = os.devnull
    if source is not None:
        out[out.index("-c") + 1] = source
    return out


def with_optimization(argv, level):
    """argv with every -O and -march flag replaced by `level` (e.g. -O2)."""
    return [argv[0], level] + [a for a in argv[1:]
                               if not (a.startswith("-O") or a.startswith("-march="))]


def flags_of(argv):
    return " ".join(a for a in argv if a.startswith("-O") or a.startswith("-march="))


def timed(argv, directory, repetitions):
    """(median CPU seconds, median wall seconds) of running argv."""
    cpu, wall = [], []
    for _ in range(repetitions):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=directory, capture_output=True, text=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"compile_time: failed: {shlex.join(argv)}\n{done.stderr}")
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def preprocessed_lines(argv, directory):
    argv = [a for a in argv if a != "-c"]
    argv[argv.index("-o") + 1] = "-"
    done = subprocess.run(argv + ["-E"], cwd=directory, capture_output=True, text=True,
                          check=True)
    return done.stdout.count("\n")


def measure(build, repetitions):
    """Every figure of the section, as a dict."""
    commands = build_commands(build)
    directory, quickstart = command_for(commands, QUICKSTART)
    print("compile_time: the quickstart …", file=sys.stderr)
    result = {
        "compiler": subprocess.run([quickstart[0], "--version"], capture_output=True,
                                   text=True).stdout.splitlines()[0],
        "repetitions": repetitions,
        "quickstart_o2": timed(to_null(with_optimization(quickstart, "-O2")), directory,
                               repetitions),
        "quickstart_o0": timed(to_null(with_optimization(quickstart, "-O0")), directory,
                               repetitions),
        "quickstart_build": timed(to_null(quickstart), directory, repetitions),
        "build_flags": flags_of(quickstart),
        "mnist": [],
        "headers": [],
    }
    print("compile_time: examples/mnist …", file=sys.stderr)
    for source in MNIST:
        mnist_directory, argv = command_for(commands, source)
        result["mnist"].append((os.path.relpath(source, ROOT),
                                timed(to_null(argv), mnist_directory, repetitions)))
    print("compile_time: the part headers …", file=sys.stderr)
    plain = to_null(with_optimization(quickstart, "-O2"))
    with tempfile.TemporaryDirectory() as scratch:
        for header in (["xtensor/xtensor.hpp"] + [f"xtnn/{p}.hpp" for p in PARTS] +
                       ["xtnn/xtnn.hpp"]):
            source = os.path.join(scratch, header.replace("/", "_") + ".cpp")
            with open(source, "w") as f:
                f.write(f"#include <{header}>\n")
            argv = to_null(plain, source)
            result["headers"].append((header, preprocessed_lines(argv, directory),
                                      timed(argv, directory, repetitions)))
    return result


def goal_row(r):
    """The compile-time line of RESULTS.md's goal table."""
    cpu, wall = r["quickstart_o2"]
    mark = "met" if cpu <= GOAL_SECONDS else "**not met**"
    return (f"| README quickstart compiles in ≤ {GOAL_SECONDS:.0f} s at -O2 | {cpu:.1f} s CPU "
            f"({wall:.1f} s wall) | {mark} |")


def section(r):
    """The Markdown section on compile time."""
    n = r["repetitions"]
    out = [f"CPU seconds of one compiler run (user + system; the median of {n} runs, wall "
           f"time beside it), {r['compiler']}, the build's own commands without ccache. "
           "Command: `benchmarks/compile/compile_time.py`.", "",
           "| translation unit | flags | CPU | wall |", "|---|---|---|---|"]
    cpu, wall = r["quickstart_o2"]
    out.append(f"| README quickstart (`examples/quickstart/main.cpp`) | `-O2` | **{cpu:.1f} s** "
               f"| {wall:.1f} s |")
    cpu, wall = r["quickstart_o0"]
    out.append(f"| README quickstart | `-O0` | {cpu:.1f} s | {wall:.1f} s |")
    cpu, wall = r["quickstart_build"]
    out.append(f"| README quickstart | `{r['build_flags']}` | {cpu:.1f} s | {wall:.1f} s |")
    total_cpu = total_wall = 0.0
    for name, (cpu, wall) in r["mnist"]:
        out.append(f"| `{name}` | `{r['build_flags']}` | {cpu:.1f} s | {wall:.1f} s |")
        total_cpu += cpu
        total_wall += wall
    out.append(f"| **examples/mnist**, all {len(r['mnist'])} | | **{total_cpu:.1f} s** | "
               f"{total_wall:.1f} s |")
    out += ["", "What including a header costs on its own (a translation unit of that one "
            "`#include`, `-O2`): every part stands on xtensor, the first row.", "",
            "| header | preprocessed lines | CPU | wall |", "|---|---|---|---|"]
    for header, lines, (cpu, wall) in r["headers"]:
        out.append(f"| `<{header}>` | {lines:,} | {cpu:.2f} s | {wall:.2f} s |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.build, args.repetitions)
    print("| goal | measured | |\n|---|---|---|\n" + goal_row(r) + "\n")
    print(section(r))


if __name__ == "__main__":
    main()
