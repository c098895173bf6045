// sleet::detail::small_vector — a vector of trivially copyable elements whose first N live
// inside the object: a statement's handful of parameters costs no heap allocation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

namespace sleet::detail {

template <class T, std::size_t N>
class small_vector {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "small_vector copies its elements with memcpy");

public:
    small_vector() noexcept {}
    small_vector(const small_vector& o) { assign(o); }
    small_vector(small_vector&& o) noexcept { steal(o); }
    small_vector& operator=(const small_vector& o)
    {
        if (this != &o) {
            size_ = 0;
            assign(o);
        }
        return *this;
    }
    small_vector& operator=(small_vector&& o) noexcept
    {
        if (this != &o) {
            release();
            steal(o);
        }
        return *this;
    }
    ~small_vector() { release(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t capacity() const noexcept { return heap_ ? capacity_ : N; }
    T* data() noexcept { return heap_ ? heap_ : inline_; }
    const T* data() const noexcept { return heap_ ? heap_ : inline_; }
    T* begin() noexcept { return data(); }
    T* end() noexcept { return data() + size_; }
    const T* begin() const noexcept { return data(); }
    const T* end() const noexcept { return data() + size_; }
    T& operator[](std::size_t i) noexcept { return data()[i]; }
    const T& operator[](std::size_t i) const noexcept { return data()[i]; }
    T& back() noexcept { return data()[size_ - 1]; }
    const T& back() const noexcept { return data()[size_ - 1]; }

    void clear() noexcept { size_ = 0; }
    void reserve(std::size_t n)
    {
        if (n > capacity()) grow(n);
    }
    void push_back(const T& v)
    {
        const T copy = v;  // `v` may be an element of this vector, freed by grow()
        if (size_ == capacity()) grow(std::max<std::size_t>(2 * N, 2 * size_));
        data()[size_++] = copy;
    }

private:
    void grow(std::size_t n)
    {
        T* p = std::allocator<T>().allocate(n);
        if (size_) std::memcpy(static_cast<void*>(p), data(), size_ * sizeof(T));
        release();
        heap_ = p;
        capacity_ = n;
    }
    void release() noexcept
    {
        if (heap_) std::allocator<T>().deallocate(heap_, capacity_);
        heap_ = nullptr;
        capacity_ = 0;
    }
    void steal(small_vector& o) noexcept
    {
        size_ = o.size_;
        if (o.heap_) {
            heap_ = o.heap_;
            capacity_ = o.capacity_;
            o.heap_ = nullptr;
            o.capacity_ = 0;
        } else if (size_) {
            std::memcpy(static_cast<void*>(inline_), o.inline_, size_ * sizeof(T));
        }
        o.size_ = 0;
    }
    void assign(const small_vector& o)
    {
        reserve(o.size_);
        if (o.size_) std::memcpy(static_cast<void*>(data()), o.data(), o.size_ * sizeof(T));
        size_ = o.size_;
    }

    union {
        T inline_[N];  // the first N elements (left uninitialised until written)
    };
    T* heap_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

} // namespace sleet::detail
