// Stands in for GCC 13's std::ios_base_library_init() on an older libstdc++ (GCC 12: up to GLIBCXX_3.4.30).
// GCC 13's <iostream> no longer constructs a std::ios_base::Init per translation unit; it references this
// symbol instead so that the library (which initialises the standard streams itself) gets linked. Code built
// that way and run on an older libstdc++ therefore needs both the symbol and one Init object: this is both.
#include <ios>

namespace std
{
    void ios_base_library_init() {}
}

static std::ios_base::Init standard_streams_initialised;
