/** Whether this process should run itself again with huge pages asked of malloc (Linux, transparent huge pages not "never", NTL_HUGE_PAGES not 0, not already asked). */
export declare function wantsHugePages(env?: Record<string, string | undefined>): boolean;
/** Runs this same command again with glibc.malloc.hugetlb=1 and ends this process as the child ends. */
export declare function rerunWithHugePages(): void;
