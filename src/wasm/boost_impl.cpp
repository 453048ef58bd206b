// Boost.JSON compiled into the module (header-only: Debian ships no wasm32 libraries), and the
// two boost::throw_exception definitions a BOOST_NO_EXCEPTIONS build asks the program for. The
// core never throws; reaching one of these is a bug, and the trap ends only this instance.
#include <boost/json/src.hpp>
#include <boost/throw_exception.hpp>

#include <cstdlib>

namespace boost {

void throw_exception(const std::exception&) { std::abort(); }
void throw_exception(const std::exception&, const boost::source_location&) { std::abort(); }

}  // namespace boost
