// xtnn's thread team: what a parallel run costs beyond its work (an empty run of one part per
// thread), the overhead that every convolution and pooling pays per call on several threads.
// Run: build/bench/benchmarks/xtnn_bench_threads
#include <atomic>
#include <cstddef>

#include <benchmark/benchmark.h>

#include <xtnn/core/parallel.hpp>

namespace {

// Back-to-back runs of `threads` empty parts: the workers are polling when each run starts
// (as in a layer chain, whose runs follow each other within microseconds).
void thread_team_run(benchmark::State& state) {
    const auto threads = static_cast<std::size_t>(state.range(0));
    xtnn::set_num_threads(threads);
    std::atomic<std::size_t> items{0};
    for (auto _ : state) {
        xtnn::detail::parallel_for(
            threads, 1,
            [&](std::size_t first, std::size_t last, std::size_t) { items += last - first; });
    }
    benchmark::DoNotOptimize(items.load());
    state.SetItemsProcessed(state.iterations());
    xtnn::set_num_threads(0);
}
BENCHMARK(thread_team_run)->Arg(1)->Arg(2);

} // namespace
