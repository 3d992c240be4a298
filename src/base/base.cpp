// The base module is header-only today; this unit anchors the library target.
#include "upshift/base/byte_buffer.hpp"
#include "upshift/base/token_list.hpp"
#include "upshift/base/unique_function.hpp"
