# Finds rowcat's dependencies and wraps each in an imported target.
# sqlite3, yaml-0.1, json-c, smartcols (util-linux's table library, for
# tree and ls) and cmocka ship pkg-config files; Debian 12's librbd-dev
# and librados-dev do not, so those are found by header and library.

find_package(PkgConfig REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(JSONC REQUIRED IMPORTED_TARGET json-c)
pkg_check_modules(SMARTCOLS REQUIRED IMPORTED_TARGET smartcols)

find_path(RBD_INCLUDE_DIR rbd/librbd.h REQUIRED)
find_library(RBD_LIBRARY rbd REQUIRED)
find_path(RADOS_INCLUDE_DIR rados/librados.h REQUIRED)
find_library(RADOS_LIBRARY rados REQUIRED)

# rowcat itself is not linked with them: rbdops/ceph_libs.c loads them with
# dlopen when a command first needs the cluster, by the sonames of the
# libraries found here, which are the names the runtime packages install
# (librados.so.2 of librados2, librbd.so.1 of librbd1), never the -dev
# package's librbd.so. Ceph::headers is what rbdops/ builds with; the
# linked targets are for the test and bench tools that call librbd
# themselves.
function(ceph_soname library out)
  get_filename_component(real "${library}" REALPATH)
  get_filename_component(name "${real}" NAME)
  if(NOT name MATCHES "^(lib[a-z]+\\.so\\.[0-9]+)")
    message(FATAL_ERROR "${library} is ${real}, not a versioned library (libNAME.so.N...)")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()
ceph_soname("${RADOS_LIBRARY}" RADOS_SONAME)
ceph_soname("${RBD_LIBRARY}" RBD_SONAME)

add_library(Ceph::headers INTERFACE IMPORTED)
set_target_properties(Ceph::headers PROPERTIES
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${RBD_INCLUDE_DIR};${RADOS_INCLUDE_DIR}"
  INTERFACE_COMPILE_DEFINITIONS
    "RBDOPS_LIBRADOS_SONAME=\"${RADOS_SONAME}\";RBDOPS_LIBRBD_SONAME=\"${RBD_SONAME}\"")
add_library(Ceph::rados UNKNOWN IMPORTED)
set_target_properties(Ceph::rados PROPERTIES
  IMPORTED_LOCATION "${RADOS_LIBRARY}"
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${RADOS_INCLUDE_DIR}")
add_library(Ceph::rbd UNKNOWN IMPORTED)
set_target_properties(Ceph::rbd PROPERTIES
  IMPORTED_LOCATION "${RBD_LIBRARY}"
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${RBD_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES Ceph::rados)

if(ROWCAT_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
