// Compiles and links against sleet; run with no arguments it parses a URL offline and prints it
// redacted (no server needed), proving the installed headers, libraries and dependencies work.
#include <sleet/connection.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main()
{
    boost::asio::io_context ioc;
    sleet::connection conn(ioc.get_executor());  // the Asio-heavy type links
    auto opts = sleet::parse_connect_options("postgresql://app:s3cret@db.example:5433/shop?sslmode=require",
                                             sleet::empty_environment());
    std::cout << opts.to_string() << "\n";
    return conn.is_open() ? 1 : 0;
}
