/* Error codes returned (negated) by every hypercall and by the hypervisor's
 * internal functions. Values follow Linux errno where a Linux name fits, so
 * that tools can print them with the names users know. */
#ifndef ABI_HV_ERRNO_H
#define ABI_HV_ERRNO_H

#define HV_EPERM        1   /* the handle lacks a right the call needs */
#define HV_ENOENT       2   /* no such object (e.g. memory slot not in use) */
#define HV_EIO          5   /* hardware refused an operation */
#define HV_E2BIG        7   /* a count or size above the documented maximum */
#define HV_EBADF        9   /* not a handle: index out of range, never issued */
#define HV_EAGAIN      11   /* try again: interrupted, or a transient state */
#define HV_ENOMEM      12   /* out of memory in the hypervisor */
#define HV_EFAULT      14   /* pointer outside the caller's memory */
#define HV_EBUSY       16   /* object in use elsewhere (e.g. vcpu running) */
#define HV_EEXIST      17   /* slot or object already exists */
#define HV_ENODEV      19   /* required hardware absent */
#define HV_EINVAL      22   /* malformed argument */
#define HV_ENOSPC      28   /* a table is full */
#define HV_ERANGE      34   /* value out of its documented range */
#define HV_ENOSYS      38   /* unknown call number */
#define HV_ENOTSUP     95   /* feature not supported on this CPU */
#define HV_ESTALE     116   /* handle was closed and its slot reused since */
#define HV_EBADTYPE   130   /* handle is of the wrong type for this call */
#define HV_ECLOSED    131   /* handle was closed and its slot is empty */

#endif
