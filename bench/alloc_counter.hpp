// Heap-allocation counting for the benchmark binaries: alloc_counter.cpp replaces the global
// operator new/delete (every form) with malloc/free plus one relaxed atomic increment per
// allocation, and interposes aligned_alloc (Asio's handler and coroutine-frame memory) the same
// way. Link it into a benchmark executable only, never into the library or the tests.
#pragma once

#include <atomic>
#include <cstdint>

namespace sleet_bench {

/// Calls of any global operator new, and of aligned_alloc, since the program started.
std::uint64_t allocations() noexcept;

} // namespace sleet_bench
