# Included by Intel's level-zero-tests right after its project() (CMAKE_PROJECT_INCLUDE):
# GoogleTest and GoogleMock come from Debian's libgtest-dev / libgmock-dev, already built,
# instead of a copy of their sources compiled again (and written into) for every build.
find_package(GTest REQUIRED CONFIG)
if(NOT TARGET GTest::GTest)
  add_library(GTest::GTest INTERFACE IMPORTED)
  target_link_libraries(GTest::GTest INTERFACE GTest::gtest)
endif()
if(NOT TARGET GMock::GMock)
  add_library(GMock::GMock INTERFACE IMPORTED)
  target_link_libraries(GMock::GMock INTERFACE GTest::gmock)
endif()
