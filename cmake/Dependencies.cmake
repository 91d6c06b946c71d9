# Every third-party library comes from Debian's packages (scripts/install-deps.sh), except
# libopenvswitch, which Debian does not ship as a -dev package and which we build from Debian's own
# openvswitch-source package (cmake/OpenVSwitch.cmake).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
pkg_check_modules(LIBMNL REQUIRED IMPORTED_TARGET libmnl)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)  # Placement policy files (oslo.policy YAML)
find_package(PostgreSQL REQUIRED)
find_package(Threads REQUIRED)
if(BWFLOOR_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()
include(OpenVSwitch)
