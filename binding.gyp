{
  "targets": [
    {
      "target_name": "metagrad_native",
      "sources": [
        "native/addon.cc",
        "native/elementwise.cc",
        "native/reduce.cc",
        "native/gemm.cc",
        "native/matmul.cc",
        "native/cholesky.cc",
        "native/conv.cc",
        "native/conv_direct.cc",
        "native/conv_winograd.cc",
        "native/conv_thin_filter.cc",
        "native/pool.cc",
        "native/channel.cc",
        "native/bn_pool_avx512.cc",
        "native/gather.cc",
        "native/philox.cc",
        "native/threadpool.cc",
        "native/simd.cc",
        "native/vmath.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      # -ffp-contract=off: a*b + c is never fused into one FMA behind the code's back, so one
      # formula rounds the same at every element (a vectorized body and its scalar tail would
      # otherwise differ, and equal inputs could break a max-pool tie differently); the
      # micro-kernels ask for their FMAs explicitly
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fno-math-errno", "-ffp-contract=off", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-ffp-contract=off"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
