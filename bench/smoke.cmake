# Runs one benchmark with its smallest sizes (--tiny) and checks that it
# exits with status 0 and prints every expected `name: number` line. Timing
# is never checked: CTest only proves that the benchmarks keep working.
#
# Usage: cmake -DPROGRAM=<executable> -DEXPECT=<name>,<name>,...
#              -P bench/smoke.cmake

execute_process(COMMAND ${PROGRAM} --tiny
                RESULT_VARIABLE status
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --tiny exited with ${status}")
endif()
string(REPLACE "," ";" names "${EXPECT}")
foreach(name IN LISTS names)
  if(NOT out MATCHES "(^|\n)${name}: -?[0-9]")
    message(FATAL_ERROR "${PROGRAM} --tiny printed no line `${name}: <number>`")
  endif()
endforeach()
