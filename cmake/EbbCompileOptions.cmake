# Warnings and sanitizers applied to every ebb target through the ebb_options interface target.
add_library(ebb_options INTERFACE)
target_compile_options(ebb_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                             -Wno-sign-conversion -Wnon-virtual-dtor
                                             -Wno-missing-field-initializers)
if(EBB_WERROR)
  target_compile_options(ebb_options INTERFACE -Werror)
endif()
if(EBB_SANITIZE)
  set(ebb_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined
                     -fno-omit-frame-pointer)
  target_compile_options(ebb_options INTERFACE ${ebb_sanitizers})
  target_link_options(ebb_options INTERFACE ${ebb_sanitizers})
endif()
if(EBB_TSAN)
  if(EBB_SANITIZE)
    message(FATAL_ERROR "EBB_TSAN and EBB_SANITIZE cannot be combined (ThreadSanitizer excludes ASan)")
  endif()
  set(ebb_sanitizers -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(ebb_options INTERFACE ${ebb_sanitizers})
  target_link_options(ebb_options INTERFACE ${ebb_sanitizers})
endif()
