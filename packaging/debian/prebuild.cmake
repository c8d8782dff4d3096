# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS, set in the top CMakeLists.txt): runs on the
# staged tree before the .deb is made.
#  - adds Debian's changelog.gz and copyright to the doc directory;
#  - drops the .comment section from the ELF files (what dh_strip does; CPACK_STRIP_FILES
#    has stripped them);
#  - compresses the man pages (gzip -9n: Debian policy, reproducible);
#  - writes the preinst with the list of every file the package ships (its takeover check).
set(_stage "${CPACK_TEMPORARY_DIRECTORY}")
if(NOT IS_DIRECTORY "${_stage}${CPACK_VSTORE_DOC_DIR}")
  message(FATAL_ERROR "prebuild.cmake: ${_stage}${CPACK_VSTORE_DOC_DIR} is not staged")
endif()
file(COPY ${CPACK_VSTORE_DOC_FILES} DESTINATION "${_stage}${CPACK_VSTORE_DOC_DIR}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(GLOB_RECURSE _elf LIST_DIRECTORIES false "${_stage}/*/bin/*" "${_stage}/*/lib/*.so")
foreach(_obj IN LISTS _elf)
  if(NOT IS_SYMLINK "${_obj}")
    execute_process(COMMAND "${CPACK_VSTORE_OBJCOPY}" --remove-section=.comment "${_obj}" RESULT_VARIABLE _rc)
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
configure_file("${CPACK_VSTORE_PREINST_IN}" "${CPACK_VSTORE_PREINST}" @ONLY)
file(CHMOD "${CPACK_VSTORE_PREINST}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
     GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
list(LENGTH _all _n)
message(STATUS "prebuild.cmake: changelog.gz and copyright added, man pages gzipped, preinst checks ${_n} files")
