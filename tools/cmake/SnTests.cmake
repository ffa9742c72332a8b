# SPDX-License-Identifier: GPL-3.0-or-later
# sn_add_cmocka_test(NAME SOURCES...): one cmocka executable per module,
# linked against the library and registered with ctest.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)

function(sn_add_cmocka_test name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/scanner ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    SN_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    SN_BUILD_DIR="${CMAKE_BINARY_DIR}"
    SN_VERSION="${PROJECT_VERSION}")
  target_link_libraries(${name} PRIVATE speurneus_core PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300
    ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout")
endfunction()
