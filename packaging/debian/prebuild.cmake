# The package's own steps on the tree CPack stages, before it makes the .deb. The last install
# rule of the top CMakeLists.txt includes this file with the VSTORE_DEB_* paths set; it does
# nothing unless cpack-project.cmake marked the process as CPack's, so cmake --install
# installs what it always did.
#  - adds Debian's changelog.gz and copyright to the doc directory;
#  - drops the .comment section from the ELF files (what dh_strip does; CPACK_STRIP_FILES
#    has stripped them);
#  - compresses the man pages (gzip -9n: Debian policy, reproducible);
#  - writes the preinst with the list of every file the package ships (its takeover check).
if(NOT "$ENV{VSTORE_CPACK_STAGING}" STREQUAL "1")
  return()
endif()
# CPACK_SET_DESTDIR: CPack stages under DESTDIR, with the real prefix
set(_stage "$ENV{DESTDIR}")
if(_stage STREQUAL "" OR NOT IS_DIRECTORY "${_stage}${VSTORE_DEB_DOC_DIR}")
  message(FATAL_ERROR "prebuild.cmake: ${_stage}${VSTORE_DEB_DOC_DIR} is not staged")
endif()
file(COPY ${VSTORE_DEB_DOC_FILES} DESTINATION "${_stage}${VSTORE_DEB_DOC_DIR}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(GLOB_RECURSE _elf LIST_DIRECTORIES false "${_stage}/*/bin/*" "${_stage}/*/lib/*.so")
foreach(_obj IN LISTS _elf)
  if(NOT IS_SYMLINK "${_obj}")
    execute_process(COMMAND "${VSTORE_DEB_OBJCOPY}" --remove-section=.comment "${_obj}" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "objcopy --remove-section=.comment ${_obj} failed")
    endif()
  endif()
endforeach()
file(GLOB_RECURSE _man LIST_DIRECTORIES false "${_stage}/*/share/man/man[0-9]/*.[0-9]")
foreach(_page IN LISTS _man)
  execute_process(COMMAND gzip -9nf "${_page}" RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip -9n ${_page} failed")
  endif()
endforeach()
file(GLOB_RECURSE _all LIST_DIRECTORIES false RELATIVE "${_stage}" "${_stage}/*")
list(SORT _all)
set(VSTORE_DEB_FILES "")
foreach(_f IN LISTS _all)
  string(APPEND VSTORE_DEB_FILES " /${_f}")
endforeach()
configure_file("${VSTORE_DEB_PREINST_IN}" "${VSTORE_DEB_PREINST}" @ONLY)
# (file(CHMOD) needs CMake 3.19)
execute_process(COMMAND chmod 0755 "${VSTORE_DEB_PREINST}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "chmod 0755 ${VSTORE_DEB_PREINST} failed")
endif()
list(LENGTH _all _n)
message(STATUS "prebuild.cmake: changelog.gz and copyright added, man pages gzipped, preinst checks ${_n} files")
