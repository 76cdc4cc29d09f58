/*
 * The control domain's tools. The first word of the domain's command line
 * names one ("demo" when the line is empty); ctl_main runs it with the
 * words as argv (argv[0] is the tool's name) and powers the machine off
 * with its status. A tool returns 0 for success, anything else for
 * failure.
 *
 * To add a tool: write <name>.c with its main, declare the main here and
 * add a row to the table in tool_table.c.
 */
#ifndef GUEST_TOOLS_TOOLS_TOOL_H
#define GUEST_TOOLS_TOOLS_TOOL_H

#include "abi/hv_abi.h"

struct tool {
    const char *name;
    const char *summary;     /* one line for the list of known tools */
    int (*main)(const struct hv_boot_info *info, int argc, char **argv);
};

/* The table, ending with an entry whose name is NULL. */
extern const struct tool ctl_tools[];

/* The tool called name, or NULL. */
const struct tool *tool_find(const char *name);

/* Tool entry points. */
int demo_main(const struct hv_boot_info *info, int argc, char **argv);
int pc_main(const struct hv_boot_info *info, int argc, char **argv);
int bench_main(const struct hv_boot_info *info, int argc, char **argv);
int hvtest_main(const struct hv_boot_info *info, int argc, char **argv);
int region_churn_main(const struct hv_boot_info *info, int argc, char **argv);
int readline_main(const struct hv_boot_info *info, int argc, char **argv);
int fuzz_main(const struct hv_boot_info *info, int argc, char **argv);
int mcwait_main(const struct hv_boot_info *info, int argc, char **argv);
int crash_main(const struct hv_boot_info *info, int argc, char **argv);

#endif
