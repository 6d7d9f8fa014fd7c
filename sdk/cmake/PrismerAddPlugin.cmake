# prismer_add_plugin(NAME SOURCES src... [LIBRARIES lib...] [OUTPUT_DIRECTORY dir] [NO_INSTALL])
#
# Builds a Prismer plugin: a MODULE library named prismer-plugin-NAME.so, compiled with hidden visibility
# against the SDK (Prismer::core) and the host's LibTorch. In the Prismer source tree it lands in
# build/plugins/ and is installed to lib/prismer/plugins/; out of tree it lands in the current binary
# folder unless OUTPUT_DIRECTORY says otherwise. Point PRISMER_PLUGIN_PATH (or `plugin_paths:` in a
# pipeline) at that folder, or pass the file to `prismer plugins validate`.
function(prismer_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "prismer_add_plugin(${name}): no SOURCES")
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE Prismer::core ${P_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "prismer-plugin-${name}"
    CXX_STANDARD 17
    CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${P_OUTPUT_DIRECTORY}")
  elseif(DEFINED PRISMER_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PRISMER_PLUGIN_OUTPUT_DIR}")
  else()
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  if(TARGET prismer_torch_pch)  # in the Prismer tree: warnings and the shared torch precompiled header
    target_link_libraries(${name} PRIVATE prismer_warnings)
    prismer_use_torch_pch(${name})
    if(NOT P_NO_INSTALL)
      install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/prismer/plugins)
    endif()
  endif()
endfunction()
