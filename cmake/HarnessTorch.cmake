# harness_find_torch(): finds LibTorch, Debian's CPU build or the pip wheel's CUDA build, with
# the same result for the harness and for an out-of-tree strategy (HarnessConfig.cmake calls it).
#
# Sets, in the caller's scope:
#   HARNESS_CXX_STANDARD   17, or 20 where the LibTorch found requires it (2.14 and later)
#   CMAKE_CXX_STANDARD     the same, so every target of the project compiles alike
#   HARNESS_TORCH_CUDA     ON when the LibTorch found is a CUDA build
#
# A CUDA LibTorch's CMake files need a CUDA toolkit with nvcc at configure time. The pip wheel
# does not ship one, but NVIDIA's pip packages do (cuda-toolkit[nvcc], laid out as
# site-packages/nvidia/cuXX/{bin,include,lib}), beside torch in the same site-packages. Their
# lib/ holds only versioned sonames (libcudart.so.13), which FindCUDA cannot find, so this file
# builds a toolkit-shaped folder of links in the build tree and points CMake at it. A toolkit
# given by the user (CUDA_TOOLKIT_ROOT_DIR, CUDAToolkit_ROOT or CMAKE_CUDA_COMPILER) wins.

# The site-packages folder holding torch when Torch_DIR or CMAKE_PREFIX_PATH points into a
# pip wheel (<site>/torch/share/cmake), else "".
function(_harness_pip_site_packages out)
  set(candidates)
  if(Torch_DIR)
    list(APPEND candidates "${Torch_DIR}")
  endif()
  foreach(prefix IN LISTS CMAKE_PREFIX_PATH)
    list(APPEND candidates "${prefix}" "${prefix}/Torch")
  endforeach()
  foreach(dir IN LISTS candidates)
    get_filename_component(dir "${dir}" ABSOLUTE)
    if(dir MATCHES "^(.*)/torch/share/cmake(/Torch)?/?$" AND EXISTS "${CMAKE_MATCH_1}/torch/lib")
      set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

# Makes <build>/harness-cuda-toolkit look like an installed toolkit (bin, include, nvvm, and lib
# (also as lib64) with unversioned .so links) over NVIDIA's pip packages under <site>/nvidia/cuXX.
function(_harness_pip_cuda_toolkit site out)
  file(GLOB nvcc_candidates "${site}/nvidia/cu[0-9]*/bin/nvcc")
  if(NOT nvcc_candidates)
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  list(GET nvcc_candidates 0 nvcc)
  get_filename_component(real_root "${nvcc}" DIRECTORY)
  get_filename_component(real_root "${real_root}" DIRECTORY)
  set(root "${CMAKE_BINARY_DIR}/harness-cuda-toolkit")
  file(MAKE_DIRECTORY "${root}/lib")
  if(NOT EXISTS "${root}/lib64")
    file(CREATE_LINK "lib" "${root}/lib64" SYMBOLIC)
  endif()
  foreach(sub bin include nvvm)
    if(EXISTS "${real_root}/${sub}" AND NOT EXISTS "${root}/${sub}")
      file(CREATE_LINK "${real_root}/${sub}" "${root}/${sub}" SYMBOLIC)
    endif()
  endforeach()
  file(GLOB libs "${real_root}/lib/*.so*" "${real_root}/lib/*.a")
  foreach(lib IN LISTS libs)
    get_filename_component(name "${lib}" NAME)
    string(REGEX REPLACE "\\.so\\..*$" ".so" plain "${name}")
    foreach(link_name IN ITEMS "${name}" "${plain}")
      if(NOT EXISTS "${root}/lib/${link_name}")
        file(CREATE_LINK "${lib}" "${root}/lib/${link_name}" SYMBOLIC)
      endif()
    endforeach()
  endforeach()
  # The driver API library is not in a pip package; CMake's FindCUDAToolkit wants a stub of it.
  if(EXISTS "${real_root}/lib/stubs" AND NOT EXISTS "${root}/lib/stubs")
    file(CREATE_LINK "${real_root}/lib/stubs" "${root}/lib/stubs" SYMBOLIC)
  endif()
  set(${out} "${root}" PARENT_SCOPE)
endfunction()

macro(harness_find_torch)
  _harness_pip_site_packages(_harness_site)
  if(_harness_site AND NOT CUDA_TOOLKIT_ROOT_DIR AND NOT CUDAToolkit_ROOT AND NOT CMAKE_CUDA_COMPILER
     AND NOT DEFINED ENV{CUDA_HOME} AND NOT DEFINED ENV{CUDA_PATH})
    _harness_pip_cuda_toolkit("${_harness_site}" _harness_cuda_root)
    if(_harness_cuda_root)
      message(STATUS "Harness: CUDA toolkit from NVIDIA's pip packages beside torch: ${_harness_cuda_root}")
      set(CUDA_TOOLKIT_ROOT_DIR "${_harness_cuda_root}" CACHE PATH "CUDA toolkit (pip packages)")
      set(CUDAToolkit_ROOT "${_harness_cuda_root}" CACHE PATH "CUDA toolkit (pip packages)")
      set(CMAKE_CUDA_COMPILER "${_harness_cuda_root}/bin/nvcc" CACHE FILEPATH "nvcc (pip package)")
    endif()
  endif()

  # TorchConfig.cmake looks for libtorch.so with find_library, which searches the system folders
  # before its own: with Debian's libtorch-dev installed too, that would mix Debian's libraries
  # with the wheel's headers. The wheel's torch/ folder first on the prefix path prevents that.
  if(_harness_site)
    list(PREPEND CMAKE_PREFIX_PATH "${_harness_site}/torch")
  endif()
  find_package(Torch REQUIRED)
  if(_harness_site AND NOT TORCH_LIBRARY MATCHES "^${_harness_site}/")
    message(FATAL_ERROR "Harness: LibTorch's CMake files are in ${_harness_site}/torch but libtorch is "
                        "${TORCH_LIBRARY}: remove that from the cache (or the build folder) and configure again")
  endif()

  # LibTorch 2.14+ declares cxx_std_20 on its target; older ones ask for nothing above 17.
  get_target_property(_harness_torch_features torch INTERFACE_COMPILE_FEATURES)
  if(_harness_torch_features MATCHES "cxx_std_(2[0-9])")
    set(HARNESS_CXX_STANDARD ${CMAKE_MATCH_1})
  else()
    set(HARNESS_CXX_STANDARD 17)
  endif()
  set(CMAKE_CXX_STANDARD ${HARNESS_CXX_STANDARD})
  set(CMAKE_CXX_STANDARD_REQUIRED ON)
  set(CMAKE_CXX_EXTENSIONS OFF)

  if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda)
    set(HARNESS_TORCH_CUDA ON)
  else()
    set(HARNESS_TORCH_CUDA OFF)
  endif()
  message(STATUS "Harness: LibTorch ${Torch_VERSION} (CUDA: ${HARNESS_TORCH_CUDA}), C++${HARNESS_CXX_STANDARD}")
endmacro()
