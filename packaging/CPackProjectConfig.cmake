# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE).
# CPack 3.25's RPM generator probes weak-dependency support with ${RPM_EXECUTABLE} but never sets
# it, so it concludes rpmbuild has no Suggests and drops the tag: set it.
if(CPACK_GENERATOR STREQUAL "RPM" AND NOT RPM_EXECUTABLE)
  find_program(RPM_EXECUTABLE rpm)
endif()
# CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY in front of a component's description unless it
# is CPack's default; each package's description starts with its own synopsis line.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
endif()
