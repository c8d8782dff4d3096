# CPACK_PROJECT_CONFIG_FILE: cpack reads it before it stages the package. It marks cpack's
# environment, in which the install rules then run: prebuild.cmake, the last of them, works on
# the staged tree only then (and not under cmake --install).
set(ENV{VSTORE_CPACK_STAGING} 1)
