// LeakSanitizer suppressions linked into every fuzzer, so that an input replays the same way by
// hand and under run.sh. Each entry is a leak that is not bwfloor's; the names need a symbolizer
// (llvm-symbolizer-16, scripts/install-deps.sh).
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): LSan's hook
extern "C" const char* __lsan_default_suppressions() {
  return
      // libnl-route 3.7.0: link_msg_parser() returns when rtnl_link_sriov_parse_vflist() fails
      // on a malformed VF entry, before it sets LINK_ATTR_VF_LIST, and the VFs parsed so far are
      // freed only when that flag is set. Found by netlink_fuzzer (fuzz/regressions/
      // netlink_fuzzer/libnl-vflist-leak); NetlinkLinkSource leaks them the same way on such a
      // message from the kernel.
      "leak:rtnl_link_sriov_parse_vflist\n"
      // glibc's pthread_getattr_np, called by the sanitizer runtime as a thread starts (libFuzzer's
      // own threads): a false positive of the runtime, seen once in ~1000 runs.
      "leak:GetThreadStackTopAndBottom\n";
}
