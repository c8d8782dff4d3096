# Finds Dovecot's development files by reading dovecot-config, as Dovecot's own plugins do.
#   DOVECOT_CONFIG       path of dovecot-config (cache variable)
#   DOVECOT_INCLUDE_DIR  -I directory of Dovecot's headers
#   DOVECOT_MODULE_DIR   Dovecot's module dir; auth modules go in ${DOVECOT_MODULE_DIR}/auth
#   DOVECOT_LIB_DIR      Dovecot's private library dir (libdovecot.so.0, libdovecot-sql.so.0)
#   DOVECOT_VERSION      from config.h (DOVECOT_VERSION)
#   DOVECOT_API          23 or 24: which auth API the headers have (compat/ follows it too)
#
# DOVECOT_ROOT builds against a Dovecot that is not the installed one: a directory into
# which a dovecot-dev package was unpacked (scripts/fetch-debian-dovecot-dev trixie DIR),
# its paths taken relative to DIR. The module dir stays the one dovecot-config names.

set(DOVECOT_ROOT "" CACHE PATH "Build against the dovecot-dev unpacked in this directory (default: the installed one)")
set(DOVECOT_CONFIG "${DOVECOT_ROOT}/usr/lib/dovecot/dovecot-config" CACHE FILEPATH "Path of Dovecot's dovecot-config")
if(NOT EXISTS "${DOVECOT_CONFIG}")
  message(FATAL_ERROR "dovecot-config not found at ${DOVECOT_CONFIG}: install dovecot-dev, or set -DDOVECOT_ROOT= or -DDOVECOT_CONFIG=")
endif()

file(STRINGS "${DOVECOT_CONFIG}" _dovecot_config_lines)
foreach(_line IN LISTS _dovecot_config_lines)
  if(_line MATCHES "^([A-Za-z_]+)=(.*)$")
    set(_key "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "^['\"](.*)['\"]$" "\\1" _value "${CMAKE_MATCH_2}")
    set(_DOVECOT_CFG_${_key} "${_value}")
  endif()
endforeach()

string(REGEX REPLACE "^-I" "" _inc "${_DOVECOT_CFG_LIBDOVECOT_INCLUDE}")
string(REGEX REPLACE " .*$" "" _inc "${_inc}")
if(_inc STREQUAL "")
  set(_inc "${_DOVECOT_CFG_dovecot_pkgincludedir}")
endif()
set(DOVECOT_INCLUDE_DIR "${DOVECOT_ROOT}${_inc}" CACHE PATH "Dovecot's header directory")
set(DOVECOT_MODULE_DIR "${_DOVECOT_CFG_dovecot_moduledir}" CACHE PATH "Dovecot's module directory")
# Where libdovecot.so.0 and libdovecot-sql.so.0 are at run time (vstore loads them for MySQL)
set(DOVECOT_LIB_DIR "${_DOVECOT_CFG_dovecot_pkglibdir}" CACHE PATH "Dovecot's private library directory")

if(NOT EXISTS "${DOVECOT_INCLUDE_DIR}/auth-request.h")
  message(FATAL_ERROR "Dovecot's auth headers are not in ${DOVECOT_INCLUDE_DIR}")
endif()
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _ver REGEX "^#define DOVECOT_VERSION \"")
string(REGEX REPLACE ".*\"(.*)\".*" "\\1" DOVECOT_VERSION "${_ver}")
file(STRINGS "${DOVECOT_INCLUDE_DIR}/config.h" _abi REGEX "^#define DOVECOT_ABI_VERSION \"")
# "2.3.ABIv19(2.3.19.1)" on 2.3, "2.4.ABIv1" on 2.4
if(NOT _abi MATCHES "\"([0-9.]+\\.ABIv[0-9]+)[(\"]")
  message(FATAL_ERROR "DOVECOT_ABI_VERSION not understood in ${DOVECOT_INCLUDE_DIR}/config.h: ${_abi}")
endif()
set(DOVECOT_ABI "${CMAKE_MATCH_1}")
string(TOLOWER "${DOVECOT_ABI}" DOVECOT_ABI_PACKAGE)
# The releases CI builds, loads and replays every verdict on (tests/roots/, README's table).
# Another 2.3/2.4 release may well work, but nobody has shown it: the build says so, and
# -DVSTORE_UNTESTED_DOVECOT=ON builds anyway.
set(VSTORE_TESTED_DOVECOTS 2.3.13 2.3.19.1 2.3.21.1 2.4.1 2.4.5)
option(VSTORE_UNTESTED_DOVECOT "Build against a Dovecot release not in VSTORE_TESTED_DOVECOTS" OFF)
string(REPLACE ";" ", " _tested "${VSTORE_TESTED_DOVECOTS}")
if(DOVECOT_VERSION VERSION_LESS 2.3 OR DOVECOT_VERSION VERSION_GREATER_EQUAL 2.5)
  message(FATAL_ERROR "Dovecot ${DOVECOT_VERSION} is not supported: the module is for 2.3 and 2.4 "
                      "(tested: ${_tested})")
endif()
# A distribution's build may add its revision ("2.4.1-4" in Debian 13): the release is before it.
string(REGEX REPLACE "-.*$" "" DOVECOT_RELEASE "${DOVECOT_VERSION}")
if(NOT DOVECOT_RELEASE IN_LIST VSTORE_TESTED_DOVECOTS AND NOT VSTORE_UNTESTED_DOVECOT)
  message(FATAL_ERROR "Dovecot ${DOVECOT_VERSION} has not been tested (tested: ${_tested}); "
                      "-DVSTORE_UNTESTED_DOVECOT=ON builds anyway")
elseif(DOVECOT_VERSION VERSION_LESS 2.4)
  set(DOVECOT_API 23)
else()
  set(DOVECOT_API 24)
endif()  # Debian's dovecot-core Provides dovecot-abi-<this>
message(STATUS "Dovecot ${DOVECOT_VERSION}: headers ${DOVECOT_INCLUDE_DIR}, modules ${DOVECOT_MODULE_DIR}")
