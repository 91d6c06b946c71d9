#include "placement/api/error_status.h"

namespace bwfloor::placement {

int httpStatus(Errc errc) {
  switch (errc) {
    case Errc::kInvalid:
      return 400;
    case Errc::kUnauthenticated:
      return 401;
    case Errc::kForbidden:
      return 403;
    case Errc::kNotFound:
      return 404;
    case Errc::kMethodNotAllowed:
      return 405;
    case Errc::kNotAcceptable:
      return 406;
    case Errc::kConflict:
      return 409;
    case Errc::kUnsupportedMediaType:
      return 415;
    case Errc::kUnavailable:
      return 503;
    case Errc::kTimeout:
      return 504;
    case Errc::kInternal:
      return 500;
  }
  return 500;
}

}  // namespace bwfloor::placement
