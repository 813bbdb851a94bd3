// CUDA caching-allocator statistics for model-zoo, which tch does not expose.
//
// Compiled by build.rs against the headers of the libtorch that tch links, and only where that
// libtorch has libc10_cuda.so. Every function returns 0 on success, or -1 after writing libtorch's
// error message (truncated, NUL-terminated) into `error`; no C++ exception crosses into Rust.

#include <c10/cuda/CUDACachingAllocator.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>

namespace {

constexpr auto kAggregate = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);

int fail(const char* message, char* error, size_t error_len) {
  if (error != nullptr && error_len > 0) {
    std::strncpy(error, message, error_len - 1);
    error[error_len - 1] = '\0';
  }
  return -1;
}

}  // namespace

extern "C" {

// Bytes held for tensors now and at their peak since the last reset, and bytes reserved from the
// driver now and at their peak, on CUDA device `device`.
int bert_latency_cuda_memory(int device, int64_t* allocated, int64_t* peak_allocated,
                             int64_t* reserved, int64_t* peak_reserved, char* error,
                             size_t error_len) {
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(
        static_cast<c10::DeviceIndex>(device));
    *allocated = stats.allocated_bytes[kAggregate].current;
    *peak_allocated = stats.allocated_bytes[kAggregate].peak;
    *reserved = stats.reserved_bytes[kAggregate].current;
    *peak_reserved = stats.reserved_bytes[kAggregate].peak;
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), error, error_len);
  } catch (...) {
    return fail("unknown C++ exception", error, error_len);
  }
}

// Starts the peaks of device `device` again from the current values.
int bert_latency_cuda_reset_peak(int device, char* error, size_t error_len) {
  try {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), error, error_len);
  } catch (...) {
    return fail("unknown C++ exception", error, error_len);
  }
}

// Returns the cached, unused blocks of every device to the driver.
int bert_latency_cuda_empty_cache(char* error, size_t error_len) {
  try {
    c10::cuda::CUDACachingAllocator::emptyCache();
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what(), error, error_len);
  } catch (...) {
    return fail("unknown C++ exception", error, error_len);
  }
}

}  // extern "C"
