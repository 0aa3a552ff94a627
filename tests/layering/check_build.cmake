# Builds one layering target and checks the outcome (run with cmake -P):
#   -DBUILD_DIR=... -DTARGET=... -DHEADER=... -DHEADER_PATH=... -DEXPECT=fail|ok
# EXPECT=fail passes only if the build fails AND the compiler's one error is that it cannot find
# HEADER, so the test cannot pass because something else broke. HEADER_PATH must exist, so a renamed header
# cannot make a case pass vacuously.
if(NOT EXISTS "${HEADER_PATH}")
  message(FATAL_ERROR "layering: ${HEADER_PATH} does not exist; update the case")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REPLACE "." "\\." header_re "${HEADER}")
# gcc: "fatal error: dp_internal.h: No such file or directory"
# clang: "fatal error: 'dp_internal.h' file not found"
set(missing_re "${header_re}'?: No such file or directory|'${header_re}' file not found")
if(EXPECT STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "layering: ${TARGET} built, but ${HEADER} must not be reachable")
  endif()
  # The missing header must be the one and only compiler error.
  string(REGEX MATCHALL "error:" errors "${out}")
  list(LENGTH errors n_errors)
  if(NOT out MATCHES "${missing_re}" OR NOT n_errors EQUAL 1)
    message(FATAL_ERROR "layering: ${TARGET} failed, but not (only) because ${HEADER} is missing:\n${out}")
  endif()
  message(STATUS "layering: ${TARGET} rejected as it must: ${HEADER} not found")
elseif(EXPECT STREQUAL "ok")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "layering: ${TARGET} must build:\n${out}")
  endif()
  message(STATUS "layering: ${TARGET} built as it must")
else()
  message(FATAL_ERROR "layering: EXPECT must be fail or ok")
endif()
