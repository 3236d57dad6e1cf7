# harness_add_strategy(NAME SOURCES a.cpp ...): builds a strategy plugin as a
# shared library against the SDK, with hidden visibility, into the strategies folder.
function(harness_add_strategy name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "harness_add_strategy(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE harness::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED HARNESS_STRATEGY_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${HARNESS_STRATEGY_OUTPUT_DIR})
  endif()
endfunction()
