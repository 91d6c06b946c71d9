# libopenvswitch: Debian 12 ships no libopenvswitch-dev, so scripts/build-libopenvswitch.sh builds the
# static library (with the vswitch OVSDB IDL) from Debian's openvswitch-source package into a
# machine-wide cache at configure time; later configures, and fresh clones, reuse it ("cached").
#
# Defines bwfloor::openvswitch (STATIC IMPORTED):
#   include dirs  <prefix>/include (SYSTEM): <config.h>, <openvswitch/...>, <lib/ovsdb-idl.h>,
#                 <lib/vswitch-idl.h>. Include <config.h> first. The headers are C: include them
#                 only from C sources (see dataplane/ovs/ovs_idl_smoke.c for the shim shape).
#   link          <prefix>/lib/libopenvswitch.a + Libs.private of the built libopenvswitch.pc
#                 (-latomic -lm with the configure options of the script) + Threads::Threads.
#
# BWFLOOR_OVS_CACHE (CMake cache or environment variable) overrides the cache dir.
option(BWFLOOR_WITH_OPENVSWITCH "Build libopenvswitch (cached) and define bwfloor::openvswitch" ON)
if(NOT BWFLOOR_WITH_OPENVSWITCH OR TARGET bwfloor::openvswitch)
  return()
endif()

find_package(Threads REQUIRED)

set(BWFLOOR_OVS_CACHE "" CACHE PATH
    "libopenvswitch cache dir (empty: environment BWFLOOR_OVS_CACHE, else /var/cache/bwfloor/openvswitch-<version>)")
set(_ovs_script "${CMAKE_CURRENT_LIST_DIR}/../scripts/build-libopenvswitch.sh")
cmake_path(NORMAL_PATH _ovs_script)
set(_ovs_args)
if(BWFLOOR_OVS_CACHE)
  list(APPEND _ovs_args "${BWFLOOR_OVS_CACHE}")
endif()

message(STATUS "libopenvswitch: ${_ovs_script} ${_ovs_args}")
execute_process(
  COMMAND bash "${_ovs_script}" ${_ovs_args}
  RESULT_VARIABLE _ovs_rc
  OUTPUT_VARIABLE _ovs_out ECHO_OUTPUT_VARIABLE
  ERROR_VARIABLE _ovs_err)
if(NOT _ovs_rc EQUAL 0)
  string(REPLACE "\n" "\n  " _ovs_err "  ${_ovs_err}") # indented: printed verbatim, not reflowed
  message(FATAL_ERROR "libopenvswitch: ${_ovs_script} failed (${_ovs_rc}):\n${_ovs_err}")
endif()
if(NOT _ovs_out MATCHES "BWFLOOR_OVS_PREFIX=([^\n]+)")
  message(FATAL_ERROR "libopenvswitch: no BWFLOOR_OVS_PREFIX= line from ${_ovs_script}")
endif()
set(BWFLOOR_OVS_PREFIX "${CMAKE_MATCH_1}")
set(_ovs_lib "${BWFLOOR_OVS_PREFIX}/lib/libopenvswitch.a")
set(_ovs_pc "${BWFLOOR_OVS_PREFIX}/lib/libopenvswitch.pc")
if(NOT EXISTS "${_ovs_lib}" OR NOT EXISTS "${_ovs_pc}")
  message(FATAL_ERROR "libopenvswitch: ${_ovs_lib} or ${_ovs_pc} missing")
endif()

# The system libraries are whatever OVS's configure decided; read them from the built .pc.
file(STRINGS "${_ovs_pc}" _ovs_private REGEX "^Libs.private:")
string(REGEX MATCHALL "-l[^ \t]+" _ovs_flags "${_ovs_private}")
set(_ovs_syslibs)
foreach(_flag IN LISTS _ovs_flags)
  string(SUBSTRING "${_flag}" 2 -1 _name)
  list(APPEND _ovs_syslibs "${_name}")
endforeach()
list(APPEND _ovs_syslibs Threads::Threads)

add_library(bwfloor::openvswitch STATIC IMPORTED GLOBAL)
set_target_properties(bwfloor::openvswitch PROPERTIES
  IMPORTED_LOCATION "${_ovs_lib}"
  IMPORTED_LINK_INTERFACE_LANGUAGES C
  INTERFACE_INCLUDE_DIRECTORIES "${BWFLOOR_OVS_PREFIX}/include"
  INTERFACE_LINK_LIBRARIES "${_ovs_syslibs}")
message(STATUS "libopenvswitch: ${_ovs_lib} (links: ${_ovs_syslibs})")

# Re-run configure when the recipe or Debian's source tarball changes (new stamp -> rebuild).
set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${_ovs_script}" "${BWFLOOR_OVS_PREFIX}/stamp")
if(EXISTS /usr/src/openvswitch/openvswitch.tar.gz)
  set_property(DIRECTORY "${CMAKE_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    /usr/src/openvswitch/openvswitch.tar.gz)
endif()
unset(_ovs_script)
unset(_ovs_args)
unset(_ovs_rc)
unset(_ovs_out)
unset(_ovs_err)
unset(_ovs_lib)
unset(_ovs_pc)
unset(_ovs_private)
unset(_ovs_flags)
unset(_ovs_syslibs)
