// The one translation unit that compiles Asio and Asio.SSL (BOOST_ASIO_SEPARATE_COMPILATION):
// user translation units include only declarations and stay light.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
