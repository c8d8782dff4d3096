# The Debian release the package is built for: the one rule that names it in the package's
# version, changelog and description, so that the packages for every release can live in one
# repository and sort in release order.
#   VSTORE_DEB_RELEASE       cache; empty (the default): the build system's release, read from
#                            its /etc/os-release (VERSION_CODENAME; testing and unstable, which
#                            have no VERSION_ID, are sid), with -backports when the dovecot-dev
#                            built against is a backport (~bpo in its Debian version).
#                            Set it when building against another release's dovecot-dev
#                            (-DDOVECOT_ROOT=).
# and, from the table below:
#   VSTORE_DEB_SUFFIX        appended to the package version (+deb13)
#   VSTORE_DEB_DISTRIBUTION  the changelog's distribution (trixie)
#   VSTORE_DEB_DISTRO_NAME   the release in the description and the changelog (Debian 13 (trixie))
# Needs DOVECOT_ROOT (cmake/Dovecot.cmake).

# release | suffix | distribution | name. dpkg sorts the suffixes +deb11 < +deb12 < +deb12bpo <
# +deb13 < +deb14~sid < +deb14: a backport's package replaces its release's, sid's sorts
# between trixie's and forky's (Debian 14, what sid becomes).
set(_vstore_deb_releases
  "bullseye|+deb11|bullseye|Debian 11 (bullseye)"
  "bookworm|+deb12|bookworm|Debian 12 (bookworm)"
  "bookworm-backports|+deb12bpo|bookworm-backports|Debian 12 (bookworm-backports)"
  "trixie|+deb13|trixie|Debian 13 (trixie)"
  "sid|+deb14~sid|unstable|Debian unstable (sid)")

set(VSTORE_DEB_RELEASE "" CACHE STRING
    "Debian release the package is for (bullseye, bookworm, bookworm-backports, trixie, sid); default: the build system's")
set(_release "${VSTORE_DEB_RELEASE}")
if(_release STREQUAL "")
  set(_os_id "")
  set(_os_version_id "")
  set(_os_version_codename "")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release _os_lines)
    foreach(_line IN LISTS _os_lines)
      if(_line MATCHES "^(ID|VERSION_ID|VERSION_CODENAME)=\"?([^\"]*)\"?$")
        string(TOLOWER "_os_${CMAKE_MATCH_1}" _key)
        set(${_key} "${CMAKE_MATCH_2}")
      endif()
    endforeach()
  endif()
  if(NOT _os_id STREQUAL "debian")
    set(_release "")
  elseif(_os_version_id STREQUAL "")
    set(_release sid)
  else()
    set(_release "${_os_version_codename}")
    # dovecot-dev's own changelog (installed, or unpacked under DOVECOT_ROOT) starts with its
    # Debian version: 1:2.3.21.1+dfsg1-1~bpo12+1 from bookworm-backports.
    set(_dev_changelog "${DOVECOT_ROOT}/usr/share/doc/dovecot-dev/changelog.Debian.gz")
    if(EXISTS "${_dev_changelog}")
      execute_process(COMMAND gzip -dc "${_dev_changelog}" COMMAND head -n 1
                      OUTPUT_VARIABLE _dev_top OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(_dev_top MATCHES "^[^ ]+ \\([^)]*~bpo[0-9]")
        string(APPEND _release -backports)
      endif()
    endif()
  endif()
  if(NOT DOVECOT_ROOT STREQUAL "" AND NOT _release STREQUAL "")
    message(WARNING "Building against the dovecot-dev in DOVECOT_ROOT: the package is named for the build "
                    "system's release (${_release}); -DVSTORE_DEB_RELEASE= names the release of that dovecot-dev")
  endif()
endif()

set(VSTORE_DEB_SUFFIX "")
set(VSTORE_DEB_DISTRIBUTION "")
set(VSTORE_DEB_DISTRO_NAME "")
foreach(_row IN LISTS _vstore_deb_releases)
  string(REPLACE "|" ";" _row "${_row}")
  list(GET _row 0 _name)
  if(_name STREQUAL _release)
    list(GET _row 1 VSTORE_DEB_SUFFIX)
    list(GET _row 2 VSTORE_DEB_DISTRIBUTION)
    list(GET _row 3 VSTORE_DEB_DISTRO_NAME)
  endif()
endforeach()
if(VSTORE_DEB_DISTRIBUTION STREQUAL "")
  if(NOT VSTORE_DEB_RELEASE STREQUAL "")
    message(FATAL_ERROR "VSTORE_DEB_RELEASE=${VSTORE_DEB_RELEASE} is none of the releases in cmake/DebianRelease.cmake")
  endif()
  # Not a Debian release the project packages for: a package with no suffix, for no release.
  message(STATUS "Debian package: no release known for this system (${_release}): no version suffix")
  set(VSTORE_DEB_DISTRIBUTION UNRELEASED)
  set(VSTORE_DEB_DISTRO_NAME "an unknown release")
else()
  message(STATUS "Debian package for ${VSTORE_DEB_DISTRO_NAME}: version suffix ${VSTORE_DEB_SUFFIX}")
endif()
