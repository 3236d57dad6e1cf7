# harness_add_strategy(NAME SOURCES a.cpp ... [OUTPUT_DIRECTORY dir]): builds a strategy plugin
# NAME.so (no "lib" prefix: the loader requires the file name to equal the strategy's name())
# as a MODULE against harness::sdk, with hidden visibility so only the two exported symbols
# of HARNESS_EXPORT_STRATEGY are visible, and with undefined symbols a link error rather than
# a load-time refusal. Output: OUTPUT_DIRECTORY, else HARNESS_STRATEGY_OUTPUT_DIR (the
# harness build's strategies folder), else the current build folder.
# Used in-tree (strategies/*) and out-of-tree after find_package(Harness).
function(harness_add_strategy name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "harness_add_strategy(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "harness_add_strategy(${name}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET harness::sdk)
    message(FATAL_ERROR "harness_add_strategy(${name}): harness::sdk is missing; call find_package(Harness) first")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE harness::sdk)
  if(TARGET harness_warnings)
    target_link_libraries(${name} PRIVATE harness_warnings)
  endif()
  if(TARGET harness_strategy_pch)  # in-tree builds: the shared precompiled SDK header
    target_precompile_headers(${name} REUSE_FROM harness_strategy_pch)
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED HARNESS_STRATEGY_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${HARNESS_STRATEGY_OUTPUT_DIR})
  else()
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
endfunction()
