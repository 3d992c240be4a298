# upshift_warnings(<target>): the project's warning set, errors with UPSHIFT_WARNINGS_AS_ERRORS.
function(upshift_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough)
  # GCC 12 reports -Wrestrict on ordinary std::string concatenation at -O2
  # (GCC bug 105329, fixed in 13); it is noise there, not a finding.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(UPSHIFT_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# upshift_module(<name> <deps...>): a library target upshift_<name> from src/<name>/*.cpp.
function(upshift_module name)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(upshift_${name} STATIC ${srcs})
  add_library(upshift::${name} ALIAS upshift_${name})
  target_include_directories(upshift_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(upshift_${name} PUBLIC ${ARGN})
  upshift_warnings(upshift_${name})
endfunction()
