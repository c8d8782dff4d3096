// Text for the log from bytes someone else wrote: a store's owner (a record, a path in a
// home), a database row, a client (a login name). Written raw, ESC, BEL, CR or a newline in
// them could rewrite a terminal that shows the log, forge a log line or hide the rest of one.
#pragma once

#include <string>
#include <string_view>

namespace vstore {

// `text` with every byte below 0x20, DEL and every byte from 0x80 on written as \xNN, and a
// backslash as \\ (so that the escaped form is never ambiguous). Printable ASCII stays as it
// is, so a path or a reason reads as before.
std::string log_escape(std::string_view text);

}  // namespace vstore
