#include "web/page_cache.h"
