#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <netdb.h>

#include "core/c_handle.h"
#include "core/error.h"

namespace inkwell::mail {

using AddressList = core::CHandle<addrinfo, freeaddrinfo>;
// getaddrinfo's signature: tests pass a slow or failing one.
using Lookup = std::function<int(const char* host, const char* service, const addrinfo* hints,
                                 addrinfo** found)>;

// The TCP addresses of host:port, found before deadline, or kUnavailable naming the host.
// getaddrinfo has no timeout of its own: a DNS server that does not answer holds it for
// resolv.conf's timeout times its attempts per server (10 s each by default), past the SMTP
// timeout that a mail's delivery is bounded by. A numeric address is converted at once; a name
// is looked up on a thread of its own, which a caller whose deadline passes leaves behind (the
// thread finishes, and frees what it found, by itself).
core::Result<AddressList> ResolveWithin(const std::string& host, std::uint16_t port,
                                        std::chrono::steady_clock::time_point deadline,
                                        const Lookup& lookup = ::getaddrinfo);

}  // namespace inkwell::mail
