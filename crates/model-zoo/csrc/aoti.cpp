// AOTInductor packages (.pt2) for model-zoo's `model_type: aoti`, through libtorch's
// torch::inductor::AOTIModelPackageLoader, which tch does not expose.
//
// Compiled by build.rs against the headers of the libtorch that tch links (CPU or CUDA builds); the
// loader lives in libtorch_cpu.so, and the CUDA runner registers itself from libtorch_cuda.so where
// that is linked. Every function returns 0 on success, or -1 after writing the error message
// (without libtorch's C++ backtrace, truncated, NUL-terminated) into `error`; no C++ exception
// crosses into Rust.
//
// The package's library lists libtorch.so as needed, without an rpath; binaries linked with
// --as-needed do not load libtorch.so (they use no symbol of it), so the shim loads it, from the
// folder of the libtorch_cpu.so in use, before the first package.
//
// Tensors cross as tch passes them: a `const at::Tensor*` is tch's `C_tensor` (borrowed for the
// call); a tensor returned through `at::Tensor** out` is allocated with `new` and owned by the
// caller, who frees it with `delete` (tch's `Tensor::from_ptr` does, through `at_free`).

#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using Loader = torch::inductor::AOTIModelPackageLoader;

// Receives one metadata entry: key and value as (pointer, length), valid during the call only.
using MetadataVisitor = void (*)(void* context, const char* key, size_t key_len,
                                 const char* value, size_t value_len);

int fail(const char* message, char* error, size_t error_len) {
  if (error != nullptr && error_len > 0) {
    std::strncpy(error, message, error_len - 1);
    error[error_len - 1] = '\0';
  }
  return -1;
}

// Runs `body`, turning any C++ exception into -1 and its message.
template <typename Body>
int guarded(char* error, size_t error_len, Body&& body) {
  try {
    body();
    return 0;
  } catch (const c10::Error& e) {
    return fail(e.what_without_backtrace(), error, error_len);
  } catch (const std::exception& e) {
    return fail(e.what(), error, error_len);
  } catch (...) {
    return fail("unknown C++ exception", error, error_len);
  }
}

// Loads libtorch.so from the folder of the libtorch_cpu.so that holds the loader, once, so that a
// package's library finds it already loaded (the dynamic loader matches it by soname). Failure is
// left for the package's own dlopen to report.
void preload_libtorch() {
  static const bool loaded = [] {
    Dl_info info{};
    auto* symbol = reinterpret_cast<void*>(&Loader::load_metadata_from_package);
    if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) {
      return false;
    }
    std::string path(info.dli_fname);
    const auto slash = path.find_last_of('/');
    path = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + "libtorch.so";
    return dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr;
  }();
  (void)loaded;
}

void visit_all(const std::unordered_map<std::string, std::string>& metadata,
               MetadataVisitor visit, void* context) {
  // Sorted, so that the caller sees the same order each time.
  const std::map<std::string, std::string> sorted(metadata.begin(), metadata.end());
  for (const auto& [key, value] : sorted) {
    visit(context, key.data(), key.size(), value.data(), value.size());
  }
}

}  // namespace

extern "C" {

// The metadata of the model named "model" in the package at `path` (AOTI_DEVICE_KEY and what the
// exporter stored with `aot_inductor.metadata`), read without loading the model's library.
int bert_latency_aoti_package_metadata(const char* path, MetadataVisitor visit, void* context,
                                       char* error, size_t error_len) {
  return guarded(error, error_len, [&] {
    visit_all(Loader::load_metadata_from_package(path, "model"), visit, context);
  });
}

// Loads the model named "model" of the package at `path`: extracts it into a temporary folder
// (removed by bert_latency_aoti_free) and opens its library. `device_index` is -1 for a CPU
// package, the CUDA device's index for a CUDA package. On success `*loader` is the loader, owned
// by the caller until bert_latency_aoti_free.
int bert_latency_aoti_load(const char* path, int device_index, void** loader, char* error,
                           size_t error_len) {
  return guarded(error, error_len, [&] {
    preload_libtorch();
    *loader = new Loader(path, "model", /*run_single_threaded=*/false, /*num_runners=*/1,
                         static_cast<c10::DeviceIndex>(device_index));
  });
}

// The metadata of a loaded package.
int bert_latency_aoti_metadata(void* loader, MetadataVisitor visit, void* context, char* error,
                               size_t error_len) {
  return guarded(error, error_len, [&] {
    visit_all(static_cast<Loader*>(loader)->get_metadata(), visit, context);
  });
}

// The floating-point dtype (c10::ScalarType as an integer) most of the package's constants
// (weights) have, or -1 when none is floating-point: the dtype the package computes in.
int bert_latency_aoti_constants_dtype(void* loader, int32_t* dtype, char* error,
                                      size_t error_len) {
  return guarded(error, error_len, [&] {
    std::map<int32_t, size_t> counts;
    const auto dtypes = static_cast<Loader*>(loader)->get_runner()->getConstantNamesToDtypes();
    for (const auto& entry : dtypes) {
      if (c10::isFloatingType(static_cast<c10::ScalarType>(entry.second))) {
        ++counts[entry.second];
      }
    }
    *dtype = -1;
    size_t most = 0;
    for (const auto& [code, count] : counts) {
      if (count > most) {
        most = count;
        *dtype = code;
      }
    }
  });
}

// Runs the package on (input_ids, attention_mask), both borrowed; `*output` receives a new tensor
// holding the first output, owned by the caller.
int bert_latency_aoti_run(void* loader, const at::Tensor* input_ids,
                          const at::Tensor* attention_mask, at::Tensor** output, char* error,
                          size_t error_len) {
  return guarded(error, error_len, [&] {
    std::vector<at::Tensor> inputs{*input_ids, *attention_mask};
    std::vector<at::Tensor> outputs = static_cast<Loader*>(loader)->run(inputs);
    if (outputs.empty()) {
      throw std::runtime_error("the package returned no output");
    }
    *output = new at::Tensor(std::move(outputs.front()));
  });
}

// Frees a loader from bert_latency_aoti_load (and its temporary folder). Null is ignored.
void bert_latency_aoti_free(void* loader) {
  try {
    delete static_cast<Loader*>(loader);
  } catch (...) {
    // A destructor that throws has nothing to report to; the memory is gone either way.
  }
}

}  // extern "C"
