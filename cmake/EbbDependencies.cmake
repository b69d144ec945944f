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
