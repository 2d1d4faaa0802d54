# cmake -DSOURCE_DIR=<xtnn> -DREPOSITORY=<dir> [-DCONSUMERS_DIR=<dir>] -P make_repository.cmake
#
# Makes <dir> a git repository whose branch `main` holds this source tree as it is now (tracked
# and untracked files, not ignored ones), so the FetchContent consumer clones what is being
# tested, uncommitted changes included, through the README's GIT_REPOSITORY / GIT_TAG form.
# Writes the commit's hash to <dir>.commit for the consumer that pins a commit.
cmake_minimum_required(VERSION 3.25)
find_package(Git REQUIRED)

file(REMOVE_RECURSE "${REPOSITORY}")
# Clones of an earlier snapshot (an unrelated history) cannot be updated: consumers clone anew.
if(CONSUMERS_DIR)
  file(GLOB old_clones "${CONSUMERS_DIR}/fetch_content_*/_deps")
  if(old_clones)
    file(REMOVE_RECURSE ${old_clones})
  endif()
endif()
file(MAKE_DIRECTORY "${REPOSITORY}")

# Newline-separated: CMake strings cannot hold the NUL of -z (git quotes unusual names).
execute_process(
  COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" ls-files --cached --others --exclude-standard
  OUTPUT_VARIABLE listing RESULT_VARIABLE listed ERROR_QUIET)
if(listed EQUAL 0)
  string(REPLACE ";" "\\;" listing "${listing}")
  string(REPLACE "\n" ";" files "${listing}")
else()
  # Not a git checkout (an unpacked archive): the files a consumer's build reads.
  file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/include/*" "${SOURCE_DIR}/cmake/*")
  list(APPEND files CMakeLists.txt LICENSE README.md)
endif()
foreach(file IN LISTS files)
  if(file STREQUAL "" OR NOT EXISTS "${SOURCE_DIR}/${file}" OR IS_DIRECTORY "${SOURCE_DIR}/${file}")
    continue() # deleted in the work tree but still in the index
  endif()
  get_filename_component(dir "${REPOSITORY}/${file}" DIRECTORY)
  file(COPY "${SOURCE_DIR}/${file}" DESTINATION "${dir}")
endforeach()

function(git)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${REPOSITORY}"
      -c user.name=xtnn-tests -c user.email=xtnn-tests@localhost -c init.defaultBranch=main
      -c commit.gpgsign=false ${ARGN}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "git ${ARGN} failed in ${REPOSITORY}:\n${out}\n${err}")
  endif()
  set(git_output "${out}" PARENT_SCOPE)
endfunction()
git(init --quiet)
git(checkout --quiet -B main)
git(add --all)
git(commit --quiet -m "xtnn as tested")
git(rev-parse HEAD)
file(WRITE "${REPOSITORY}.commit" "${git_output}")
list(LENGTH files count)
message(STATUS "xtnn: ${count} files committed to ${REPOSITORY} (main = ${git_output})")
