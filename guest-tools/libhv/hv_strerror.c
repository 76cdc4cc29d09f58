/*
 * Names for the HV_E* codes of abi/hv_errno.h, for messages a person reads.
 */
#include "guest-tools/libhv/libhv.h"

const char *hv_strerror(long err)
{
    if (err == 0)
        return "success";
    switch (err < 0 ? -err : err) {
    case HV_EPERM:    return "HV_EPERM";
    case HV_ENOENT:   return "HV_ENOENT";
    case HV_EIO:      return "HV_EIO";
    case HV_E2BIG:    return "HV_E2BIG";
    case HV_EBADF:    return "HV_EBADF";
    case HV_EAGAIN:   return "HV_EAGAIN";
    case HV_ENOMEM:   return "HV_ENOMEM";
    case HV_EFAULT:   return "HV_EFAULT";
    case HV_EBUSY:    return "HV_EBUSY";
    case HV_EEXIST:   return "HV_EEXIST";
    case HV_ENODEV:   return "HV_ENODEV";
    case HV_EINVAL:   return "HV_EINVAL";
    case HV_ENOSPC:   return "HV_ENOSPC";
    case HV_ERANGE:   return "HV_ERANGE";
    case HV_ENOSYS:   return "HV_ENOSYS";
    case HV_ENOTSUP:  return "HV_ENOTSUP";
    case HV_ESTALE:   return "HV_ESTALE";
    case HV_EBADTYPE: return "HV_EBADTYPE";
    case HV_ECLOSED:  return "HV_ECLOSED";
    default:          return "HV_E?";
    }
}
