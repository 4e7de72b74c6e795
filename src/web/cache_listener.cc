#include "web/cache_listener.h"
