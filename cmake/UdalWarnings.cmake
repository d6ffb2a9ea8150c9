# Warning and sanitizer settings shared by every target of the project.
add_library(udal_build_flags INTERFACE)
target_compile_options(udal_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor>)
if(UDAL_WERROR)
  target_compile_options(udal_build_flags INTERFACE -Werror)
endif()

if(UDAL_SANITIZE)
  add_compile_options(-fsanitize=${UDAL_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${UDAL_SANITIZE})
endif()

# udal_target_defaults(<target>): the project's warnings on one target.
function(udal_target_defaults target)
  target_link_libraries(${target} PRIVATE udal_build_flags)
endfunction()
