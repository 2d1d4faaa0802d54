# Fails unless every header under include/xtnn (but detail/, and the components' onnx/ and mpi/)
# is among the files that #include <xtnn/xtnn.hpp> reads: the compiler's own dependency list
# (-M), so a header reached through another counts, and one that no part header reaches is
# named.
#   cmake -DCOMPILER=c++ -DINCLUDE_DIR=include "-DFLAGS=-I...;-I..." -P umbrella.cmake
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/umbrella.cpp" "#include <xtnn/xtnn.hpp>\n")
execute_process(
  COMMAND "${COMPILER}" -std=c++20 -M "-I${INCLUDE_DIR}" ${FLAGS}
    "${CMAKE_CURRENT_BINARY_DIR}/umbrella.cpp"
  OUTPUT_VARIABLE dependencies ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "umbrella: xtnn.hpp does not preprocess:\n${errors}")
endif()
string(REPLACE "\\\n" " " dependencies "${dependencies}")
file(GLOB_RECURSE headers RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/xtnn/*.hpp")
set(missing "")
foreach(header ${headers})
  if(header MATCHES "^xtnn/(detail|onnx|mpi)/" OR header MATCHES "^xtnn/(onnx|mpi)\\.hpp$")
    continue()
  endif()
  string(FIND "${dependencies}" "${INCLUDE_DIR}/${header}" at)
  if(at EQUAL -1)
    list(APPEND missing "${header}")
  endif()
endforeach()
list(LENGTH headers count)
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "umbrella: xtnn.hpp does not reach these headers; list each in its part "
                      "header (include/xtnn/<part>.hpp):\n  ${missing}")
endif()
message(STATUS "umbrella: xtnn.hpp reaches all ${count} headers")
