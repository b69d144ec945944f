# Every dependency comes from Debian's packages, except librdkafka, which scripts/build-librdkafka.sh
# builds into .cache/librdkafka-<version> (found through pkg-config). Nothing is downloaded at build time.
find_package(PkgConfig REQUIRED)

set(EBB_RDKAFKA_PREFIX "${CMAKE_SOURCE_DIR}/.cache/librdkafka-2.15.1"
    CACHE PATH "Where scripts/build-librdkafka.sh installed librdkafka")
if(EXISTS "${EBB_RDKAFKA_PREFIX}/lib/pkgconfig")
  list(PREPEND CMAKE_PREFIX_PATH "${EBB_RDKAFKA_PREFIX}")
endif()
# 2.12 is the first release with the KIP-848 consumer group protocol generally available.
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka>=2.12)
message(STATUS "librdkafka ${RDKAFKA_VERSION} from ${RDKAFKA_PREFIX}")

find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(prometheus-cpp REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
if(EBB_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# gRPC and protobuf for KEDA's external scaler API (`ebb scale --serve-keda`), from Debian.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++ protobuf)
find_program(EBB_PROTOC protoc REQUIRED)
find_program(EBB_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# tcmalloc (gperftools' minimal allocator, Debian's libgoogle-perftools-dev) replaces glibc's
# malloc in the ebb binary, librdkafka included: librdkafka allocates an op and a message per
# record on its broker threads and the application frees them on its own, and glibc's arenas
# contend on that (perf: malloc/free ~30% of the consumer's samples, futex waits on arena locks).
# Measured on one local broker, 100 B records, 12 partitions, 3 runs: consume 1.75-1.79M ->
# 2.55-2.69M msg/s, produce 0.67-0.85M -> 1.22-1.24M msg/s, peak RSS 85 -> 93 MiB. The sanitizer
# builds keep their own allocators.
if(EBB_SANITIZE OR EBB_TSAN)
  set(EBB_TCMALLOC_DEFAULT OFF)
else()
  set(EBB_TCMALLOC_DEFAULT ON)
endif()
option(EBB_TCMALLOC "Link ebb with tcmalloc (gperftools)" ${EBB_TCMALLOC_DEFAULT})
if(EBB_TCMALLOC)
  if(EBB_SANITIZE OR EBB_TSAN)
    message(FATAL_ERROR "EBB_TCMALLOC cannot be combined with a sanitizer's allocator")
  endif()
  pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
endif()
