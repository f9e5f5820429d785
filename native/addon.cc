// The Node-API binding: unpacks TypedArrays (no copies: kernels work on their memory in
// place) and Float64Array metadata, runs a kernel, and turns every C++ exception into a
// JS Error. Nothing here aborts: bad arguments, bad shapes and bad_alloc all throw.
#include <napi.h>

#include "channel.h"
#include "common.h"
#include "conv.h"
#include "elementwise.h"
#include "gather.h"
#include "gemm.h"
#include "linalg.h"
#include "philox.h"
#include "pool.h"
#include "reduce.h"
#include "simd.h"
#include "threadpool.h"

using namespace mg;

namespace {

// One napi_get_typedarray_info call per argument (node-addon-api's accessors make one
// call each): this binding overhead is most of the cost of a small kernel.
Buf to_buf(const Napi::Value& v, const char* what) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok)
    throw KernelError(std::string(what) + " must be a TypedArray");
  Buf b;
  switch (type) {
    case napi_float32_array: b.dtype = F32; break;
    case napi_float64_array: b.dtype = F64; break;
    case napi_int32_array: b.dtype = I32; break;
    default: throw KernelError(std::string(what) + ": unsupported TypedArray type");
  }
  b.len = (int64_t)length;
  b.data = length ? data : nullptr;
  if (b.len && !b.data) throw KernelError(std::string(what) + ": detached buffer");
  return b;
}

const double* to_meta(const Napi::Value& v, size_t minLen, const char* what, size_t* len = nullptr) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_float64_array)
    throw KernelError(std::string(what) + " must be a Float64Array");
  if (length < minLen) throw KernelError(std::string(what) + " is too short");
  if (len) *len = length;
  static const double empty = 0;
  return length ? (const double*)data : &empty;
}

int64_t to_int(double d, const char* what) {
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != (double)(int64_t)d)
    throw KernelError(std::string(what) + " must be an integer");
  return (int64_t)d;
}

// meta = [rank, offset, shape..., strides...]
View to_view(const Napi::Value& arr, const Napi::Value& meta, const char* what) {
  View v;
  v.buf = to_buf(arr, what);
  size_t len;
  const double* m = to_meta(meta, 2, what, &len);
  int64_t rank = to_int(m[0], what);
  if (rank < 0 || rank > MAX_RANK) throw KernelError(std::string(what) + ": rank must be in [0, 16]");
  if (len < (size_t)(2 + 2 * rank)) throw KernelError(std::string(what) + ": view metadata too short");
  v.rank = (int)rank;
  v.offset = to_int(m[1], what);
  for (int d = 0; d < v.rank; d++) {
    v.shape[d] = to_int(m[2 + d], what);
    v.strides[d] = to_int(m[2 + rank + d], what);
    if (v.shape[d] < 0) throw KernelError(std::string(what) + ": negative dimension");
  }
  // Bound everything so no offset arithmetic below can overflow int64.
  const double LIM = 1125899906842624.0;  // 2^50
  double count = 1;
  if (std::fabs((double)v.offset) > LIM) throw KernelError(std::string(what) + ": offset out of range");
  for (int d = 0; d < v.rank; d++) {
    count *= (double)v.shape[d];
    if (v.shape[d] > 0 && (double)(v.shape[d] - 1) * std::fabs((double)v.strides[d]) > LIM)
      throw KernelError(std::string(what) + ": stride too large");
  }
  if (count > LIM) throw KernelError(std::string(what) + ": too many elements");
  return v;
}

int arg_int(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw KernelError(std::string(what) + " must be a number");
  return (int)to_int(info[i].As<Napi::Number>().DoubleValue(), what);
}

void need(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n) throw KernelError(std::string(fn) + ": expected " + std::to_string(n) + " arguments");
}

// Runs body and converts any C++ exception into a JS exception.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* name, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, std::string(name) + ": out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  } catch (...) {
    throw Napi::Error::New(env, std::string(name) + ": unknown native failure");
  }
}

#define KERNEL(NAME, NARGS, ...)                                         \
  Napi::Value NAME(const Napi::CallbackInfo& info) {                     \
    return guarded(info, #NAME, [&]() -> Napi::Value {                   \
      need(info, NARGS, #NAME);                                          \
      __VA_ARGS__;                                                       \
      return info.Env().Undefined();                                     \
    });                                                                  \
  }

KERNEL(Unary, 4, unary(arg_int(info, 0, "op"), to_view(info[1], info[2], "x"), to_buf(info[3], "out")))
KERNEL(Binary, 6,
       binary(arg_int(info, 0, "op"), to_view(info[1], info[2], "a"), to_view(info[3], info[4], "b"), to_buf(info[5], "out")))
KERNEL(Where, 7,
       where(to_view(info[0], info[1], "cond"), to_view(info[2], info[3], "a"), to_view(info[4], info[5], "b"),
             to_buf(info[6], "out")))
KERNEL(Cast, 3, cast(to_view(info[0], info[1], "x"), to_buf(info[2], "out")))
KERNEL(Copy, 4, copy(to_view(info[0], info[1], "src"), to_view(info[2], info[3], "dst")))
KERNEL(Fill, 2, {
  if (!info[1].IsNumber()) throw KernelError("fill: value must be a number");
  fill(to_buf(info[0], "out"), info[1].As<Napi::Number>().DoubleValue());
})
KERNEL(Reduce, 5, {
  size_t n;
  const double* ax = to_meta(info[3], 0, "axes", &n);
  std::vector<int> axes;
  for (size_t i = 0; i < n; i++) axes.push_back((int)to_int(ax[i], "axis"));
  reduce(arg_int(info, 0, "op"), to_view(info[1], info[2], "x"), axes, to_buf(info[4], "out"));
})
KERNEL(ArgReduce, 5,
       arg_reduce(info[0].ToBoolean().Value(), to_view(info[1], info[2], "x"), arg_int(info, 3, "axis"), to_buf(info[4], "out")))
KERNEL(Softmax, 6,
       softmax(to_view(info[0], info[1], "x"), arg_int(info, 2, "rows"), arg_int(info, 3, "cols"), info[4].ToBoolean().Value(),
               to_buf(info[5], "out")))

MatArg to_mat(const Napi::Value& arr, const Napi::Value& meta, const char* what) {
  const double* m = to_meta(meta, 4, what);
  return MatArg{to_buf(arr, what), to_int(m[0], what), to_int(m[1], what), to_int(m[2], what), to_int(m[3], what)};
}

KERNEL(Matmul, 6, {
  const double* d = to_meta(info[4], 4, "dims");
  for (int i = 0; i < 4; i++)
    if (!(d[i] >= 0 && d[i] <= 2147483647.0)) throw KernelError("matmul: dims must be in [0, 2^31)");
  matmul(to_mat(info[0], info[1], "a"), to_mat(info[2], info[3], "b"), to_int(d[0], "batch"), to_int(d[1], "m"),
         to_int(d[2], "n"), to_int(d[3], "k"), to_buf(info[5], "out"));
})

KERNEL(Cholesky, 6, {
  int64_t batch = arg_int(info, 2, "batch"), n = arg_int(info, 3, "n");
  if (batch < 0 || batch > 2147483647 || n < 0 || n > 2147483647) throw KernelError("cholesky: dims must be in [0, 2^31)");
  cholesky(to_mat(info[0], info[1], "a"), batch, n, to_buf(info[4], "factor"), to_buf(info[5], "info"));
})
KERNEL(TriangularSolve, 7, {
  const double* d = to_meta(info[4], 3, "dims");
  for (int i = 0; i < 3; i++)
    if (!(d[i] >= 0 && d[i] <= 2147483647.0)) throw KernelError("triangularSolve: dims must be in [0, 2^31)");
  triangular_solve(to_mat(info[0], info[1], "t"), to_mat(info[2], info[3], "b"), to_int(d[0], "batch"), to_int(d[1], "n"),
                   to_int(d[2], "m"), info[5].ToBoolean().Value(), to_buf(info[6], "out"));
})

ConvGeom to_conv(const Napi::Value& v) {
  const double* m = to_meta(v, 16, "geometry");
  int64_t q[16];
  for (int i = 0; i < 16; i++) {
    q[i] = to_int(m[i], "geometry");
    if (q[i] < -2147483647 || q[i] > 2147483647) throw KernelError("conv geometry value out of range");
  }
  return ConvGeom{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10], q[11], q[12], q[13], q[14], q[15]};
}

KERNEL(Conv2d, 4, {
  Buf bias;
  const bool hasBias = info.Length() > 4 && !info[4].IsNull() && !info[4].IsUndefined();
  if (hasBias) bias = to_buf(info[4], "bias");
  conv2d(to_buf(info[0], "x"), to_buf(info[1], "w"), to_conv(info[2]), to_buf(info[3], "y"), hasBias ? &bias : nullptr);
})
KERNEL(Conv2dBackwardInput, 4,
       conv2d_backward_input(to_buf(info[0], "dy"), to_buf(info[1], "w"), to_conv(info[2]), to_buf(info[3], "dx")))
KERNEL(Conv2dBackwardFilter, 4, {
  Buf db;
  const bool hasBias = info.Length() > 4 && !info[4].IsNull() && !info[4].IsUndefined();
  if (hasBias) db = to_buf(info[4], "db");
  conv2d_backward_filter(to_buf(info[0], "x"), to_buf(info[1], "dy"), to_conv(info[2]), to_buf(info[3], "dw"), hasBias ? &db : nullptr);
})
Napi::Value ConvDirectPathsOf(const Napi::CallbackInfo& info) {
  return guarded(info, "convDirectPaths", [&]() -> Napi::Value {
    need(info, 1, "convDirectPaths");
    const mg::ConvDirectPaths p = conv_direct_paths(to_conv(info[0]));
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("forward", Napi::Boolean::New(info.Env(), p.forward));
    o.Set("input", Napi::Boolean::New(info.Env(), p.input));
    o.Set("filter", Napi::Boolean::New(info.Env(), p.filter));
    o.Set("winogradForward", Napi::Boolean::New(info.Env(), p.winogradForward));
    o.Set("winogradInput", Napi::Boolean::New(info.Env(), p.winogradInput));
    o.Set("winogradFilter", Napi::Boolean::New(info.Env(), p.winogradFilter));
    return o;
  });
}
PoolGeom to_pool(const Napi::Value& v) {
  const double* m = to_meta(v, 11, "geometry");
  int64_t q[11];
  for (int i = 0; i < 11; i++) {
    q[i] = to_int(m[i], "geometry");
    if (q[i] < -2147483647 || q[i] > 2147483647) throw KernelError("pool geometry value out of range");
  }
  return PoolGeom{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10]};
}

KERNEL(MaxPool2d, 4, max_pool2d(to_buf(info[0], "x"), to_pool(info[1]), to_buf(info[2], "values"), to_buf(info[3], "indices")))
KERNEL(MaxPool2dBackward, 4,
       max_pool2d_backward(to_buf(info[0], "dy"), to_buf(info[1], "indices"), to_pool(info[2]), to_buf(info[3], "dx")))

// dims = [n, c, s]
ChannelDims to_channel_dims(const Napi::Value& v) {
  const double* m = to_meta(v, 3, "dims");
  return ChannelDims{to_int(m[0], "n"), to_int(m[1], "c"), to_int(m[2], "s")};
}

KERNEL(BatchNorm, 10, {
  if (!info[4].IsNumber()) throw KernelError("batchNorm: eps must be a number");
  batch_norm(to_buf(info[0], "x"), to_buf(info[1], "gamma"), to_buf(info[2], "beta"), to_channel_dims(info[3]),
             info[4].As<Napi::Number>().DoubleValue(), to_buf(info[5], "y"), to_buf(info[6], "xhat"), to_buf(info[7], "mean"),
             to_buf(info[8], "variance"), to_buf(info[9], "rstd"));
})
KERNEL(BatchNormBackward, 5,
       batch_norm_backward(to_buf(info[0], "g"), to_buf(info[1], "xhat"), to_buf(info[2], "w"), to_channel_dims(info[3]),
                           to_buf(info[4], "out")))
KERNEL(BatchNormReluMaxPool, 13, {
  if (!info[4].IsNumber()) throw KernelError("batchNormReluMaxPool: eps must be a number");
  batch_norm_relu_max_pool(to_buf(info[0], "x"), to_buf(info[1], "gamma"), to_buf(info[2], "beta"), to_channel_dims(info[3]),
                           arg_int(info, 5, "h"), arg_int(info, 6, "w"), info[4].As<Napi::Number>().DoubleValue(), to_buf(info[7], "xhat"),
                           to_buf(info[8], "pooled"), to_buf(info[9], "indices"), to_buf(info[10], "mean"), to_buf(info[11], "variance"),
                           to_buf(info[12], "rstd"));
})
KERNEL(BatchNormReluMaxPoolBackward, 11,
       batch_norm_relu_max_pool_backward(to_buf(info[0], "pooled gradient"), to_buf(info[1], "pooled"), to_buf(info[2], "indices"),
                                         to_buf(info[3], "xhat"), to_buf(info[4], "w"), to_channel_dims(info[5]), arg_int(info, 6, "h"),
                                         arg_int(info, 7, "w"), to_buf(info[8], "dx"), to_buf(info[9], "sumG"), to_buf(info[10], "sumGX")))
KERNEL(BatchNormBackwardSums, 7, {
  const Buf sg = to_buf(info[5], "sumG"), sgx = to_buf(info[6], "sumGX");
  batch_norm_backward(to_buf(info[0], "g"), to_buf(info[1], "xhat"), to_buf(info[2], "w"), to_channel_dims(info[3]), to_buf(info[4], "out"),
                      &sg, &sgx);
})
KERNEL(ChannelAffine, 5, {
  Buf shift;
  bool hasShift = !info[2].IsNull() && !info[2].IsUndefined();
  if (hasShift) shift = to_buf(info[2], "shift");
  channel_affine(to_buf(info[0], "x"), to_buf(info[1], "scale"), hasShift ? &shift : nullptr, to_channel_dims(info[3]),
                 to_buf(info[4], "out"));
})
KERNEL(ChannelDot, 4, channel_dot(to_buf(info[0], "a"), to_buf(info[1], "b"), to_channel_dims(info[2]), to_buf(info[3], "out")))
KERNEL(Gather, 6,
       gather(to_view(info[0], info[1], "x"), to_view(info[2], info[3], "indices"), arg_int(info, 4, "axis"), to_buf(info[5], "out")))
KERNEL(ScatterAdd, 7, {
  size_t n;
  const double* s = to_meta(info[5], 0, "outShape", &n);
  std::vector<int64_t> shape;
  for (size_t i = 0; i < n; i++) shape.push_back(to_int(s[i], "outShape"));
  scatter_add(to_view(info[0], info[1], "updates"), to_view(info[2], info[3], "indices"), arg_int(info, 4, "axis"), shape,
              to_buf(info[6], "out"));
})
KERNEL(Random, 5, {
  for (int i = 1; i <= 3; i++)
    if (!info[i].IsNumber()) throw KernelError("random: key and counter must be numbers");
  random_fill(arg_int(info, 0, "kind"), info[1].As<Napi::Number>().Uint32Value(), info[2].As<Napi::Number>().Uint32Value(),
              info[3].As<Napi::Number>().DoubleValue(), to_buf(info[4], "out"));
})

// The op and random-kind names in op-code order, from the X-macros in elementwise.h,
// reduce.h and philox.h: the TS loader compares them with the lists in ts/backend/kernels.ts.
Napi::Value OpNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = [&](std::initializer_list<const char*> names) {
    Napi::Array a = Napi::Array::New(env, names.size());
    uint32_t i = 0;
    for (const char* n : names) a.Set(i++, n);
    return a;
  };
#define MG_NAME_ENTRY(E, NAME) NAME,
  Napi::Object o = Napi::Object::New(env);
  o.Set("unary", list({MG_UNARY_OPS(MG_NAME_ENTRY)}));
  o.Set("binary", list({MG_BINARY_OPS(MG_NAME_ENTRY)}));
  o.Set("reduce", list({MG_REDUCE_OPS(MG_NAME_ENTRY)}));
  o.Set("random", list({MG_RANDOM_KINDS(MG_NAME_ENTRY)}));
#undef MG_NAME_ENTRY
  return o;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", isa_name(isa()));
  o.Set("threads", ThreadPool::get().threads());
  return o;
}

KERNEL(SetThreads, 1, ThreadPool::get().set_threads(arg_int(info, 0, "threads")))
KERNEL(SetConvWinograd, 1, {
  if (!info[0].IsBoolean()) throw mg::KernelError("setConvWinograd: expected a boolean");
  set_conv_winograd(info[0].As<Napi::Boolean>().Value());
})
KERNEL(SetIsa, 1, {
  std::string s = info[0].ToString().Utf8Value();
  set_isa_cap(s == "scalar" ? Isa::Scalar : s == "avx2" ? Isa::Avx2 : Isa::Avx512);
})
KERNEL(GemmTune, 3, gemm_tune(arg_int(info, 0, "kc"), arg_int(info, 1, "mc"), arg_int(info, 2, "nc")))
KERNEL(Shutdown, 0, ThreadPool::get().shutdown())

Napi::Value ThreadPoolCheck(const Napi::CallbackInfo& info) {
  return guarded(info, "threadPoolCheck", [&]() -> Napi::Value {
    need(info, 2, "threadPoolCheck");
    int64_t wrong = thread_pool_check(arg_int(info, 0, "jobs"), std::max(2, arg_int(info, 1, "maxTasks")));
    return Napi::Number::New(info.Env(), (double)wrong);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#define EXPORT(JS, FN) exports.Set(JS, Napi::Function::New(env, FN, JS))
  EXPORT("unary", Unary);
  EXPORT("binary", Binary);
  EXPORT("where", Where);
  EXPORT("cast", Cast);
  EXPORT("copy", Copy);
  EXPORT("fill", Fill);
  EXPORT("reduce", Reduce);
  EXPORT("argReduce", ArgReduce);
  EXPORT("softmax", Softmax);
  EXPORT("matmul", Matmul);
  EXPORT("cholesky", Cholesky);
  EXPORT("triangularSolve", TriangularSolve);
  EXPORT("conv2d", Conv2d);
  EXPORT("conv2dBackwardInput", Conv2dBackwardInput);
  EXPORT("conv2dBackwardFilter", Conv2dBackwardFilter);
  EXPORT("convDirectPaths", ConvDirectPathsOf);
  EXPORT("maxPool2d", MaxPool2d);
  EXPORT("maxPool2dBackward", MaxPool2dBackward);
  EXPORT("batchNorm", BatchNorm);
  EXPORT("batchNormBackward", BatchNormBackward);
  EXPORT("batchNormBackwardSums", BatchNormBackwardSums);
  EXPORT("batchNormReluMaxPool", BatchNormReluMaxPool);
  EXPORT("batchNormReluMaxPoolBackward", BatchNormReluMaxPoolBackward);
  EXPORT("channelAffine", ChannelAffine);
  EXPORT("channelDot", ChannelDot);
  EXPORT("gather", Gather);
  EXPORT("scatterAdd", ScatterAdd);
  EXPORT("random", Random);
  EXPORT("info", Info);
  EXPORT("opNames", OpNames);
  EXPORT("setThreads", SetThreads);
  EXPORT("setConvWinograd", SetConvWinograd);
  EXPORT("setIsa", SetIsa);
  EXPORT("shutdown", Shutdown);
  EXPORT("gemmTune", GemmTune);
  EXPORT("threadPoolCheck", ThreadPoolCheck);
#undef EXPORT
  // Join the worker threads when the environment goes away, so the process exits cleanly.
  env.AddCleanupHook([]() { ThreadPool::get().shutdown(); });
  return exports;
}

}  // namespace

NODE_API_MODULE(metagrad_native, Init)
