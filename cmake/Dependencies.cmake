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
