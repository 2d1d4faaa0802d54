# The consumer program, built with a demanding project's warnings as errors: xtnn must add no
# warning to it through any route (its include directories are SYSTEM, and the headers are clean
# under these flags anyway: xtnn's own tests build with them).
add_executable(consumer "${CMAKE_CURRENT_LIST_DIR}/consumer.cpp")
target_link_libraries(consumer PRIVATE xtnn::xtnn)
target_compile_options(consumer PRIVATE
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Werror)
