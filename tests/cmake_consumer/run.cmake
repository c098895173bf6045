# ctest driver: install sleet from BUILD_DIR into a temp prefix, then configure, build and run the
# consumer with find_package(sleet); also configure (only) the add_subdirectory form.
set(work "${BUILD_DIR}/cmake_consumer_test")
file(REMOVE_RECURSE "${work}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/cmake_consumer" -B "${work}/pkg" -G Ninja
                        "-DCMAKE_PREFIX_PATH=${work}/prefix" -DCMAKE_BUILD_TYPE=Release
                        "-DCMAKE_CXX_COMPILER=${CXX}" "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "find_package(sleet) consumer: configure failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${work}/pkg" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "find_package(sleet) consumer: build failed")
endif()
execute_process(COMMAND "${work}/pkg/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "host=db.example port=5433 user=app password=\\*+ dbname=shop sslmode=require")
  message(FATAL_ERROR "consumer output unexpected (rc=${rc}): ${out}")
endif()
if(out MATCHES "s3cret")
  message(FATAL_ERROR "the password leaked into to_string(): ${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/cmake_consumer" -B "${work}/sub" -G Ninja
                        -DSLEET_CONSUMER_MODE=subdirectory "-DSLEET_SOURCE_DIR=${SOURCE_DIR}"
                        "-DCMAKE_CXX_COMPILER=${CXX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "add_subdirectory(sleet) consumer: configure failed")
endif()
message(STATUS "consumer: ${out}")
