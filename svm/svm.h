/* The SVM backend's internal interface and the CPU features it found. */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <stdbool.h>
#include <stdint.h>

/* CPUID Fn8000_000A EDX (AMD APM vol. 3, E.4.9). */
#define SVM_CPUID_NP              (1u << 0)
#define SVM_CPUID_NRIPS           (1u << 3)
#define SVM_CPUID_VMCB_CLEAN      (1u << 5)
#define SVM_CPUID_FLUSH_BY_ASID   (1u << 6)
#define SVM_CPUID_DECODE_ASSISTS  (1u << 7)

struct svm_features {
    uint32_t asid_count;
    bool nested_paging;
    bool next_rip;
    bool decode_assists;
    bool vmcb_clean;
    bool flush_by_asid;
};

extern struct svm_features svm_features;

#endif
