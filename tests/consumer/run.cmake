# Builds and runs the downstream consumer in tests/consumer/ (a cmake -P
# script, registered as a ctest test by tests/CMakeLists.txt).
#
# Usage:
#   cmake -DMODE=find_package|add_subdirectory -DSOURCE_DIR=<repo root>
#         -DBINARY_DIR=<build tree> -DWORK_DIR=<dir for temporaries>
#         [-DCONFIG=<build type>] [-DGENERATOR=<generator>]
#         [-DMAKE_PROGRAM=<path>] [-DCXX_COMPILER=<path>]
#         [-DCXX_FLAGS=<flags>] [-DLINKER_FLAGS=<flags>] [-DJOBS=<n>]
#         -P run.cmake
#
# MODE find_package: `cmake --install` the build tree BINARY_DIR into a fresh
#   prefix, then configure tests/consumer/find_package against that prefix
#   (CMAKE_PREFIX_PATH), build and run it.
# MODE add_subdirectory: configure tests/consumer/add_subdirectory (which adds
#   SOURCE_DIR as a subproject), build and run it.
#
# Everything happens in a fresh directory below WORK_DIR that is removed
# afterwards, also when a step fails.

cmake_minimum_required(VERSION 3.16)

foreach(var MODE SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: ${var} is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|add_subdirectory)$")
  message(FATAL_ERROR "run.cmake: unknown MODE '${MODE}'")
endif()
if(MODE STREQUAL "find_package" AND "${BINARY_DIR}" STREQUAL "")
  message(FATAL_ERROR "run.cmake: MODE find_package needs BINARY_DIR")
endif()
if(NOT JOBS)
  set(JOBS 2)
endif()

string(RANDOM LENGTH 8 suffix)
set(tmp "${WORK_DIR}/consumer-${MODE}-${suffix}")
set(prefix "${tmp}/prefix")
set(build "${tmp}/build")
file(REMOVE_RECURSE "${tmp}")
file(MAKE_DIRECTORY "${tmp}")

set(failure "")

# Runs one step unless an earlier one failed; remembers the first failure.
macro(step name)
  if(failure STREQUAL "")
    string(TIMESTAMP started "%s")
    message(STATUS "[consumer ${MODE}] ${name}")
    execute_process(COMMAND ${ARGN}
                    RESULT_VARIABLE step_result
                    OUTPUT_VARIABLE step_output
                    ERROR_VARIABLE step_output)
    string(TIMESTAMP finished "%s")
    math(EXPR seconds "${finished} - ${started}")
    if(NOT step_result EQUAL 0)
      set(failure "${name} failed (${step_result}) after ${seconds}s")
      message("${step_output}")
    else()
      message(STATUS "[consumer ${MODE}] ${name}: done in ${seconds}s")
    endif()
  endif()
endmacro()

# -- configure arguments shared by both modes ----------------------------------

set(configure_args -B "${build}")
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(CONFIG)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
if(CXX_FLAGS)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
endif()
if(LINKER_FLAGS)
  list(APPEND configure_args "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
endif()

set(build_args --build "${build}" --target consumer --parallel ${JOBS})
if(CONFIG)
  list(APPEND build_args --config "${CONFIG}")
endif()

# -- the steps -----------------------------------------------------------------

if(MODE STREQUAL "find_package")
  set(install_args --install "${BINARY_DIR}" --prefix "${prefix}")
  if(CONFIG)
    list(APPEND install_args --config "${CONFIG}")
  endif()
  step("install into ${prefix}" "${CMAKE_COMMAND}" ${install_args})
  step("configure" "${CMAKE_COMMAND}"
       -S "${SOURCE_DIR}/tests/consumer/find_package" ${configure_args}
       "-DCMAKE_PREFIX_PATH=${prefix}"
       -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  # The package must come from the fresh prefix, not from somewhere else.
  if(failure STREQUAL "")
    file(STRINGS "${build}/CMakeCache.txt" found_dir
         REGEX "^CAFSnapshot_DIR:")
    string(REGEX REPLACE "^CAFSnapshot_DIR:[A-Z]+=" "" found_dir
           "${found_dir}")
    string(FIND "${found_dir}" "${prefix}/" pos)
    if(NOT pos EQUAL 0)
      set(failure "CAFSnapshot found at '${found_dir}', not in ${prefix}")
    endif()
  endif()
else()
  step("configure" "${CMAKE_COMMAND}"
       -S "${SOURCE_DIR}/tests/consumer/add_subdirectory" ${configure_args}
       "-DCAF_SNAPSHOT_SOURCE_DIR=${SOURCE_DIR}")
endif()

step("build" "${CMAKE_COMMAND}" ${build_args})

if(failure STREQUAL "")
  set(exe "")
  foreach(candidate "${build}/consumer" "${build}/${CONFIG}/consumer")
    if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
      set(exe "${candidate}")
      break()
    endif()
  endforeach()
  if(exe STREQUAL "")
    set(failure "consumer executable not found in ${build}")
  endif()
endif()
step("run" "${exe}")
if(failure STREQUAL "" AND NOT "\n${step_output}" MATCHES "\nOK\n")
  set(failure "consumer did not print OK")
  message("${step_output}")
endif()

file(REMOVE_RECURSE "${tmp}")

if(NOT failure STREQUAL "")
  message(FATAL_ERROR "[consumer ${MODE}] ${failure}")
endif()
message(STATUS "[consumer ${MODE}] OK")
