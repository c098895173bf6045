// Global operator new/delete replacements that count allocations (see alloc_counter.hpp).
#include "alloc_counter.hpp"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace {
std::atomic<std::uint64_t> g_allocs{0};

void* counted_alloc(std::size_t n)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    const auto a = static_cast<std::size_t>(al);
    const std::size_t size = (n + a - 1) / a * a;  // aligned_alloc wants a multiple of the alignment
    if (void* p = ::memalign(a, size ? size : a)) return p;
    throw std::bad_alloc();
}
} // namespace

// Asio allocates its handler and coroutine-frame memory (when its per-thread cache misses) with
// std::aligned_alloc, not operator new: count those too, so that allocs_per_unit is every heap
// allocation made through the C++ and Asio allocation paths.
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return ::memalign(alignment, size);
}

std::uint64_t sleet_bench::allocations() noexcept { return g_allocs.load(std::memory_order_relaxed); }

// The replacements pair malloc with free; GCC 12 cannot see that once they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept
{
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept
{
    try {
        return counted_alloc(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
